-- Revenue per order day. Days without orders are not emitted.
-- Sums are cast explicitly so both adapters produce the same column types
-- (DuckDB would otherwise return HUGEINT / DECIMAL(38, 2)).
with orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        order_date,
        count(*) as order_count,
        count(distinct customer_id) as customer_count,
        cast(sum(item_count) as {{ dbt.type_bigint() }}) as items_sold,
        cast(sum(gross_amount) as numeric(18, 2)) as gross_revenue,
        cast(sum(
            case when order_status = 'returned' then gross_amount else 0 end
        ) as numeric(18, 2)) as returned_revenue,
        cast(sum(
            case when order_status <> 'returned' then gross_amount else 0 end
        ) as numeric(18, 2)) as net_revenue,
        cast(sum(paid_amount) as numeric(18, 2)) as paid_revenue

    from orders
    group by order_date

)

select * from final

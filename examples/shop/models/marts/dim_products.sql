with products as (

    select * from {{ ref('stg_products') }}

),

order_items as (

    select * from {{ ref('stg_order_items') }}

),

sales as (

    select
        product_id,
        count(distinct order_id) as order_count,
        sum(quantity) as units_sold,
        sum(line_amount) as gross_revenue
    from order_items
    group by product_id

),

final as (

    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category,
        products.unit_price,
        products.is_active,
        -- explicit casts keep column types identical on DuckDB and Postgres
        cast(coalesce(sales.order_count, 0) as {{ dbt.type_bigint() }}) as order_count,
        cast(coalesce(sales.units_sold, 0) as {{ dbt.type_bigint() }}) as units_sold,
        cast(coalesce(sales.gross_revenue, 0) as numeric(18, 2)) as gross_revenue

    from products
    left join sales
        on products.product_id = sales.product_id

)

select * from final

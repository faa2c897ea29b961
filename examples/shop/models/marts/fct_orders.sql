-- One row per order with item, amount and payment roll-ups. Incremental: each run
-- re-reads orders loaded in the last 3 days (late-arriving orders land there) and
-- replaces them by order_id, so re-running over the same window gives the same rows.
-- event_time names the column the window filters on, so `steward backfill` can bound a batch.
{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    event_time='loaded_at',
) }}

with orders as (

    select * from {{ ref('stg_orders') }}
    where {{ steward.incremental_window('loaded_at', 3) }}

),

order_items as (

    select * from {{ ref('stg_order_items') }}

),

payments as (

    select * from {{ ref('stg_payments') }}

),

known_customers as (

    select distinct customer_id from {{ ref('stg_customers') }}

),

customers as (

    select customer_id from {{ ref('dim_customers') }}

),

items_per_order as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(line_amount) as gross_amount
    from order_items
    group by order_id

),

payments_per_order as (

    select
        order_id,
        count(*) as payment_count,
        sum(amount) as paid_amount,
        max(paid_at) as last_paid_at
    from payments
    group by order_id

),

joined as (

    select
        orders.order_id,
        orders.customer_id,
        known_customers.customer_id is not null as has_known_customer,
        {{ steward.member_key('orders.customer_id', 'customers.customer_id') }} as customer_key,
        orders.ordered_at,
        orders.order_date,
        orders.order_status,
        orders.loaded_at,
        -- explicit casts keep column types identical on DuckDB and Postgres
        -- (DuckDB sums integers to HUGEINT; Postgres coalesce drops numeric scale)
        cast(coalesce(items_per_order.line_count, 0) as {{ dbt.type_bigint() }}) as line_count,
        cast(coalesce(items_per_order.item_count, 0) as {{ dbt.type_bigint() }}) as item_count,
        cast(coalesce(items_per_order.gross_amount, 0) as numeric(18, 2)) as gross_amount,
        cast(coalesce(payments_per_order.payment_count, 0) as {{ dbt.type_bigint() }}) as payment_count,
        cast(coalesce(payments_per_order.paid_amount, 0) as numeric(18, 2)) as paid_amount,
        payments_per_order.last_paid_at

    from orders
    left join known_customers
        on orders.customer_id = known_customers.customer_id
    left join customers
        on orders.customer_id = customers.customer_id
    left join items_per_order
        on orders.order_id = items_per_order.order_id
    left join payments_per_order
        on orders.order_id = payments_per_order.order_id

),

final as (

    select
        joined.*,
        cast(joined.gross_amount - joined.paid_amount as numeric(18, 2)) as outstanding_amount,
        case
            when joined.paid_amount = 0 then 'unpaid'
            when joined.paid_amount >= joined.gross_amount then 'paid'
            else 'partially_paid'
        end as payment_status

    from joined

)

select * from final

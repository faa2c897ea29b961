-- Orders keyed to the customer dimension: NULL and unknown customers map to the unknown member.
select
    orders.order_id,
    {{ steward.member_key('orders.customer_id', 'customers.customer_id') }} as customer_key
from {{ ref('modelling_orders') }} as orders
left join {{ ref('modelling_dim_customers') }} as customers
    on orders.customer_id = customers.customer_id

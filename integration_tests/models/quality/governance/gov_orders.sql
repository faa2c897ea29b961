select * from {{ ref('gov_orders_seed') }}

select * from {{ ref('gov_customers_seed') }}

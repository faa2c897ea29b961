select * from {{ ref('core_customers_input') }}

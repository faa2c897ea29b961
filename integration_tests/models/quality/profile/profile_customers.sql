select * from {{ ref('profile_customers_input') }}

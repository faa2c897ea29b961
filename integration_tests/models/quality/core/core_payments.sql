select * from {{ ref('core_payments_input') }}

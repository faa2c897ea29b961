select * from {{ ref('core_payment_totals_input') }}

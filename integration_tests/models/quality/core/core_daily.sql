select * from {{ ref('core_daily_input') }}

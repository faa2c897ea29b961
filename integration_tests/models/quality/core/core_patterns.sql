select * from {{ ref('core_patterns_input') }}

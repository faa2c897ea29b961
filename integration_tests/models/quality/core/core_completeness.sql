select * from {{ ref('core_completeness_input') }}

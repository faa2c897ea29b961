select * from {{ ref('core_keys_input') }}

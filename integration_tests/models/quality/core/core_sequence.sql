select * from {{ ref('core_sequence_input') }}

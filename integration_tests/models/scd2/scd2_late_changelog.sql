{#- No loaded_at: events are not bounded by a watermark, so late ones are never lost. -#}
{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='changelog',
    updated_at='updated_at',
    operation_column='op',
    hard_deletes='new_record',
) }}

select
    customer_id,
    email,
    tier,
    op,
    updated_at
from {{ ref('scd2_late_events') }}
where batch <= {{ var('scd2_batch', 1) }}

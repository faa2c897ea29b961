{#- The same change log as scd2_late_changelog, read past a loaded_at watermark: a late event's older
    events are read back, so both models keep the same history. -#}
{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='changelog',
    updated_at='updated_at',
    loaded_at='loaded_at',
    operation_column='op',
    hard_deletes='new_record',
) }}

select
    customer_id,
    email,
    tier,
    op,
    updated_at,
    loaded_at
from {{ ref('scd2_late_events') }}
where batch <= {{ var('scd2_batch', 1) }}

{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='state',
    updated_at='updated_at',
    loaded_at='loaded_at',
    watermark_grace='1h',
    hard_deletes='new_record',
) }}

{#- Batches after 3 repeat batch 3's state: nothing new. #}
select
    customer_id,
    email,
    tier,
    updated_at,
    loaded_at
from {{ ref('scd2_watermark_states') }}
where batch = {{ [var('scd2_batch', 1), 3] | min }}

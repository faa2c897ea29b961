{{ config(materialized='scd2', unique_key='customer_id', source_kind='state', updated_at='updated_at') }}

select
    customer_id,
    email,
    tier,
    updated_at
from {{ ref('scd2_path_states') }}
where batch = {{ [var('scd2_batch', 1), 4] | min }}

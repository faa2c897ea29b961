{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='state',
    updated_at='updated_at',
    hard_deletes='new_record',
) }}

select
    customer_id,
    email,
    tier,
    updated_at
from {{ ref('scd2_customer_states') }}
where batch = {{ var('scd2_batch', 1) }}

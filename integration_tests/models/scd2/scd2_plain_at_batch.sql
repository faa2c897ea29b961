{{ config(materialized='view') }}

select
    customer_id,
    email,
    tier,
    updated_at
from {{ ref('scd2_plain_states') }}
where batch = {{ var('scd2_batch', 1) }}

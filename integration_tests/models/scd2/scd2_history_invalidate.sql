{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='changelog',
    updated_at='updated_at',
    loaded_at='loaded_at',
    operation_column='op',
    hard_deletes='invalidate',
    current_valid_to='9999-12-31',
    scd_columns={'valid_from': 'effective_from', 'valid_to': 'effective_to'},
) }}

select
    customer_id,
    email,
    tier,
    op,
    updated_at,
    loaded_at
from {{ ref('scd2_customer_events') }}
where batch <= {{ var('scd2_batch', 1) }}

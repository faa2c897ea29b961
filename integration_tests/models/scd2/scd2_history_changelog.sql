{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='changelog',
    updated_at='updated_at',
    loaded_at='loaded_at',
    operation_column='op',
    hard_deletes='new_record',
    watermark_grace='0',
    on_schema_change='append_new_columns',
) }}

select
    customer_id,
    email,
    tier,
    op,
    updated_at,
    loaded_at
{%- if var('scd2_batch', 1) >= 5 %},
        upper(tier) as tier_code
    {%- endif %}
from {{ ref('scd2_customer_events') }}
where batch <= {{ var('scd2_batch', 1) }}

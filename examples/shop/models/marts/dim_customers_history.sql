-- Every version of every customer, from the CDC feed: late events land in their place,
-- redelivered duplicates and no-op events collapse, and a delete then restore keeps both.
{{ config(
    materialized='scd2',
    unique_key='customer_id',
    source_kind='changelog',
    updated_at='changed_at',
    loaded_at='loaded_at',
    operation_column='change_op',
    delete_values=['delete'],
    hard_deletes='new_record',
) }}

select
    customer_id,
    email,
    country_code,
    segment,
    change_op,
    changed_at,
    loaded_at
from {{ ref('stg_customer_changes') }}

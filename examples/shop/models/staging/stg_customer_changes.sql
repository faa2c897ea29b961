-- One row per event in the customer CDC feed. Exact duplicate events are kept
-- here on purpose (staging is 1:1 with the raw feed); consumers deduplicate.
with source as (

    select * from {{ ref('raw_customer_changes') }}

),

renamed as (

    select
        cast(customer_id as integer) as customer_id,
        lower(trim(email)) as email,
        upper(trim(country_code)) as country_code,
        lower(trim(segment)) as segment,
        lower(trim(op)) as change_op,
        lower(trim(op)) = 'delete' as is_delete,
        cast(changed_at as {{ dbt.type_timestamp() }}) as changed_at,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed

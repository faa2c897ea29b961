with source as (

    select * from {{ ref('raw_orders') }}

),

renamed as (

    select
        cast(id as integer) as order_id,
        cast(customer_id as integer) as customer_id,
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast({{ dbt.date_trunc('day', 'ordered_at') }} as date) as order_date,
        lower(trim(status)) as order_status,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed

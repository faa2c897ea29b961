with source as (

    select * from {{ ref('raw_customers') }}

),

renamed as (

    select
        cast(id as integer) as customer_id,
        first_name,
        last_name,
        first_name || ' ' || last_name as full_name,
        lower(trim(email)) as email,
        upper(trim(country_code)) as country_code,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at

    from source

)

select * from renamed

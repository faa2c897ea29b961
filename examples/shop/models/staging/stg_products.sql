with source as (

    select * from {{ ref('raw_products') }}

),

renamed as (

    select
        cast(id as integer) as product_id,
        upper(trim(sku)) as sku,
        name as product_name,
        lower(trim(category)) as category,
        unit_price_cents,
        {{ cents_to_amount('unit_price_cents') }} as unit_price,
        cast(active as {{ dbt.type_boolean() }}) as is_active

    from source

)

select * from renamed

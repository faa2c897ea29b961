with source as (

    select * from {{ ref('raw_order_items') }}

),

renamed as (

    select
        cast(order_id as integer) as order_id,
        cast(line_number as integer) as line_number,
        cast(order_id as integer) * 1000 + cast(line_number as integer) as order_item_id,
        cast(product_id as integer) as product_id,
        cast(quantity as integer) as quantity,
        {{ cents_to_amount('unit_price_cents') }} as unit_price,
        {{ cents_to_amount('quantity * unit_price_cents') }} as line_amount

    from source

)

select * from renamed

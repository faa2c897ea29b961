with source as (

    select * from {{ ref('raw_payments') }}

),

renamed as (

    select
        cast(id as integer) as payment_id,
        cast(order_id as integer) as order_id,
        lower(trim(method)) as payment_method,
        {{ cents_to_amount('amount_cents') }} as amount,
        cast(paid_at as {{ dbt.type_timestamp() }}) as paid_at

    from source

)

select * from renamed

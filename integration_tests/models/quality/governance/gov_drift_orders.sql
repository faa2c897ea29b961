-- amount retyped (integer to numeric), legacy_code removed and status added since the history's previous state.
select
    cast(1 as integer) as order_id,
    cast(9.99 as numeric(10, 2)) as amount,
    cast('new' as varchar(20)) as status,
    cast('2024-01-01' as date) as created_at

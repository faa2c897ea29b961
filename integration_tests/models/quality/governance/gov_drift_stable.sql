-- Same columns as its recorded history.
select
    cast(1 as integer) as order_id,
    cast('open' as varchar(20)) as status

-- Differs from the history's current rows (note retyped, old_col removed), as before the snapshot runs.
select
    cast(1 as integer) as order_id,
    cast('a note' as varchar(20)) as note

-- One row per event, `events` rows per day of obs_event_volume, spread over the day.
with digits as (
    select ten.digit
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as ten (digit)
),

numbers as (
    select ones.digit + 10 * tens.digit + 100 * hundreds.digit as n
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
)

select
    volume.event_day,
    numbers.n as event_number,
    {{ dbt.dateadd('minute', 'numbers.n', 'cast(volume.event_day as ' ~ dbt.type_timestamp() ~ ')') }} as event_at
from {{ ref('obs_event_volume') }} as volume
inner join numbers on volume.events > numbers.n

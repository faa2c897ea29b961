{#- Spark's parquet tables take no delete or merge: there the late rows replace whole days (partitions). -#}
{{ config(materialized='incremental', unique_key='event_id',
           incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
           partition_by=(['event_day'] if target.type == 'spark' else none)) }}

-- Events that have arrived by var it_arrived_by, the latest version of each, loaded with a
-- two-day grace window for late arrivals. runner/tests re-runs it with later arrival dates.
with arrived as (
    select
        event_id,
        event_time,
        arrived_on,
        payload
    from {{ ref('modelling_events') }}
    where arrived_on <= cast('{{ var("it_arrived_by", "2024-01-10") }}' as date)
),

latest as (
    {{ steward.dedupe(
        'arrived', 'event_id', 'arrived_on desc',
        columns=['event_id', 'event_time', 'arrived_on', 'payload'],
    ) }}
)

select
    event_id,
    event_time,
    payload{% if target.type == 'spark' %},
    cast(event_time as date) as event_day{% endif %}
from latest
where {{ steward.incremental_window('event_time', '48 hours') }}

{#- Spark's parquet tables take no delete or merge: there the late rows replace whole days (partitions). -#}
{{ config(materialized='incremental', unique_key='event_id',
           incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'merge'),
           partition_by=(['event_day'] if target.type == 'spark' else none)) }}

-- modelling_incremental_events with the merge strategy: the same rows on every run.
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
where {{ steward.incremental_window('event_time', '2 days') }}

select * from {{ ref('gov_events_seed') }}

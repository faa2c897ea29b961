select * from {{ ref('gov_people_seed') }}

select * from {{ ref('gov_scd2_bad_seed') }}

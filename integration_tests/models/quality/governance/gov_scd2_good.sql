select * from {{ ref('gov_scd2_good_seed') }}

select * from {{ ref('gov_ranges_bad_seed') }}

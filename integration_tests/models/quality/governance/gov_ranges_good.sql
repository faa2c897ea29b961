select * from {{ ref('gov_ranges_good_seed') }}

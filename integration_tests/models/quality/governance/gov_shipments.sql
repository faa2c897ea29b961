select * from {{ ref('gov_shipments_seed') }}

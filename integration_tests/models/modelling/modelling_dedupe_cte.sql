-- steward.dedupe on a CTE: the columns are given.
with dedupe_input as (
    select
        id,
        region,
        amount,
        updated_at,
        loaded_at
    from {{ ref('modelling_dedupe_input') }}
)

{{ steward.dedupe(
    'dedupe_input',
    ['id', 'region'],
    ['updated_at desc', 'loaded_at desc nulls last'],
    columns=['id', 'region', 'amount', 'updated_at', 'loaded_at'],
) }}

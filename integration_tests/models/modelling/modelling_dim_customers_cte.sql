-- The same from a CTE: column types given, a custom unknown key and one attribute overridden.
with customers as (
    select
        customer_id,
        customer_name,
        segment,
        created_on,
        credit_limit
    from {{ ref('modelling_customers') }}
)

{{ steward.with_unknown_member(
    'customers',
    'customer_id',
    unknown_key=0,
    attributes={'segment': "'n/a'"},
    columns={
        'customer_id': 'integer',
        'customer_name': 'varchar',
        'segment': 'varchar',
        'created_on': 'date',
        'credit_limit': 'decimal(10,2)',
    },
) }}

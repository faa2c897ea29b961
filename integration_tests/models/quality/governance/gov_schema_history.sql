-- Rows shaped like steward_schema_history, for relations of this project's schema.
select
    lower('{{ target.schema }}') || '.' || table_name || '.' || column_name as column_id,
    lower('{{ target.schema }}') || '.' || table_name as relation_name,
    column_name,
    data_type,
    dbt_valid_from,
    dbt_valid_to
from {{ ref('gov_schema_history_seed') }}

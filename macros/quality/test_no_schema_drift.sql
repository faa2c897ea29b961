{#- No column of the model was added, removed or retyped since the previous recorded state of
    its relation in steward's schema history snapshot. -#}
{% test no_schema_drift(model, history=none) %}
  {{ config(meta={'steward_dimension': 'schema'}, enabled=steward.internal_has_information_schema()) }}
  {%- set history = history if history is not none else ref('steward_schema_history') -%}
  {{ return(adapter.dispatch('test_no_schema_drift', 'steward')(model, history)) }}
{% endtest %}

{#- The model's columns now come from information_schema.columns (the same source as
    steward_column_catalog). If the snapshot's current rows for the relation already equal them
    (the snapshot ran in this build), they are compared with the state before the relation's
    latest recorded change; otherwise (the snapshot has not run yet in this build) with the
    snapshot's current rows. A relation with no history, or recorded only once, has no drift. -#}
{% macro default__test_no_schema_drift(model, history) %}
  {%- set relation = steward.internal_gov_tested_relation(model, 'no_schema_drift') -%}
  {%- if relation is none -%}
    {%- if execute -%}
      {{ exceptions.raise_compiler_error("steward.no_schema_drift: could not find the relation this test is attached to") }}
    {%- endif -%}
    {%- set database, schema, identifier = '', '', '' -%}
  {%- else -%}
    {%- set database, schema, identifier = relation.database | lower, relation.schema | lower, relation.identifier | lower -%}
  {%- endif -%}
  {%- set relation_name = (schema ~ '.' ~ identifier).replace("'", "''") %}
with steward_actual as (
    select
        lower(column_name) as column_name,
        data_type,
        {{ steward.internal_gov_normalise_type_sql('data_type') }} as steward_type
    from information_schema.columns
    where
        lower(table_catalog) = '{{ database.replace("'", "''") }}'
        and lower(table_schema) = '{{ schema.replace("'", "''") }}'
        and lower(table_name) = '{{ identifier.replace("'", "''") }}'
),

steward_history as (
    select
        lower(column_name) as column_name,
        data_type,
        {{ steward.internal_gov_normalise_type_sql('data_type') }} as steward_type,
        dbt_valid_from,
        dbt_valid_to
    from {{ history }}
    where relation_name = '{{ relation_name }}'
),

steward_recorded as (
    select column_name, data_type, steward_type from steward_history where dbt_valid_to is null
),

steward_change_times as (
    select dbt_valid_from as steward_at from steward_history
    union
    select dbt_valid_to as steward_at from steward_history where dbt_valid_to is not null
),

steward_bounds as (
    select
        (select min(dbt_valid_from) from steward_history) as steward_first_at,
        (select max(steward_at) from steward_change_times) as steward_last_at
),

steward_previous as (
    select
        steward_history.column_name,
        steward_history.data_type,
        steward_history.steward_type
    from steward_history
    cross join steward_bounds
    where
        steward_bounds.steward_last_at > steward_bounds.steward_first_at
        and steward_history.dbt_valid_from < steward_bounds.steward_last_at
        and (steward_history.dbt_valid_to is null or steward_history.dbt_valid_to >= steward_bounds.steward_last_at)
),

steward_state as (
    select
        case
            when exists (
                select column_name, steward_type from steward_actual
                except
                select column_name, steward_type from steward_recorded
            ) or exists (
                select column_name, steward_type from steward_recorded
                except
                select column_name, steward_type from steward_actual
            ) then 0
            else 1
        end as steward_snapshot_is_current
),

steward_baseline as (
    select
        column_name,
        data_type,
        steward_type,
        {{ steward.internal_gov_text('state before the latest recorded change') }} as steward_baseline
    from steward_previous
    where (select steward_snapshot_is_current from steward_state) = 1
    union all
    select
        column_name,
        data_type,
        steward_type,
        {{ steward.internal_gov_text('latest recorded state') }} as steward_baseline
    from steward_recorded
    where (select steward_snapshot_is_current from steward_state) = 0
),

steward_changes as (
    select
        steward_actual.column_name as steward_column,
        {{ steward.internal_gov_text('added') }} as steward_change,
        cast(null as {{ dbt.type_string() }}) as steward_previous_type,
        cast(steward_actual.data_type as {{ dbt.type_string() }}) as steward_current_type
    from steward_actual
    where not exists (select 1 from steward_baseline where steward_baseline.column_name = steward_actual.column_name)
    union all
    select
        steward_baseline.column_name,
        {{ steward.internal_gov_text('removed') }},
        cast(steward_baseline.data_type as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }})
    from steward_baseline
    where not exists (select 1 from steward_actual where steward_actual.column_name = steward_baseline.column_name)
    union all
    select
        steward_actual.column_name,
        {{ steward.internal_gov_text('retyped') }},
        cast(steward_baseline.data_type as {{ dbt.type_string() }}),
        cast(steward_actual.data_type as {{ dbt.type_string() }})
    from steward_actual
    inner join steward_baseline on steward_baseline.column_name = steward_actual.column_name
    where steward_baseline.steward_type <> steward_actual.steward_type
)

select
    steward_changes.steward_column,
    steward_changes.steward_change,
    steward_changes.steward_previous_type,
    steward_changes.steward_current_type,
    (select max(steward_baseline) from steward_baseline) as steward_baseline,
    {{ steward.internal_gov_text('no column added, removed or retyped since the previous recorded state') }} as steward_expected
from steward_changes
where exists (select 1 from steward_baseline)
{% endmacro %}

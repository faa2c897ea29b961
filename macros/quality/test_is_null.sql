{#- column_name is NULL in every row (e.g. a deprecated column). -#}
{% test is_null(model, column_name, key_columns=none) %}
  {{ config(meta={'steward_dimension': 'validity'}) }}
  {{ return(adapter.dispatch('test_is_null', 'steward')(model, column_name, key_columns)) }}
{% endtest %}

{#- Failing rows: the key_columns (or the whole row), steward_actual (the value as text) and
    steward_expected 'null'. -#}
{% macro default__test_is_null(model, column_name, key_columns=none) %}
  {%- set test_name = 'is_null' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set keys = steward.internal_core_columns(key_columns, test_name, 'key_columns') %}
select
    {{ steward.internal_core_row_context(keys) }},
    cast({{ column }} as {{ dbt.type_string() }}) as steward_actual,
    {{ steward.internal_core_text('null') }} as steward_expected
from {{ model }}
where {{ column }} is not null
{% endmacro %}

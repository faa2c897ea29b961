{#- Whether the warehouse has information_schema.columns, which steward_column_catalog, the
    steward_schema_history snapshot and the no_schema_drift test read. Where it does not, the three are
    disabled (internal_adapter_notices says so once per run). -#}
{% macro internal_has_information_schema() -%}
  {{ return(adapter.dispatch('internal_has_information_schema', 'steward')()) }}
{%- endmacro %}

{% macro default__internal_has_information_schema() -%}
  {{ return(true) }}
{%- endmacro %}

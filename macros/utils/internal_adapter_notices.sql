{#- The package's on-run-start hook: one log line naming what steward disables on this adapter, and
    why. Renders no SQL. -#}
{% macro internal_adapter_notices() -%}
  {%- if execute and not steward.internal_has_information_schema() -%}
    {{ log("steward: steward_column_catalog, steward_schema_history and the no_schema_drift test are disabled on "
           ~ adapter.type() ~ ": it has no information_schema.columns", info=true) }}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

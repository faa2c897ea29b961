{#- One timestamp for the whole dbt invocation, so every statement of a run agrees and a
    re-run with the same `run_timestamp` setting is reproducible. -#}
{% macro run_timestamp() -%}
  {{ return(adapter.dispatch('run_timestamp', 'steward')()) }}
{%- endmacro %}

{% macro default__run_timestamp() -%}
  {%- set fixed = steward.setting('run_timestamp') -%}
  {%- set value = fixed if fixed else run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
  {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$', value | string) -%}
    {{ exceptions.raise_compiler_error("steward setting run_timestamp must be an ISO timestamp, got " ~ (value | tojson)) }}
  {%- endif -%}
  {{ return("cast('" ~ (value | string | replace('T', ' ')) ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

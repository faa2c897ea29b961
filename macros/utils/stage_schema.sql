{#- Blue-green deploys: the schema a node is staged in. `steward deploy --strategy blue-green`
    sets STEWARD_STAGE_SUFFIX for its stage build only (an environment variable, like
    STEWARD_RECORD_RUNS: it is the runner's switch, not a project setting); outside that build
    the name comes back unchanged. -#}
{% macro stage_schema(schema_name) -%}
  {{ return(adapter.dispatch('stage_schema', 'steward')(schema_name)) }}
{%- endmacro %}

{% macro default__stage_schema(schema_name) -%}
  {%- set suffix = env_var('STEWARD_STAGE_SUFFIX', '') -%}
  {%- if schema_name is none or not suffix -%}
    {{ return(schema_name) }}
  {%- endif -%}
  {%- set name = schema_name | trim -%}
  {%- if name.endswith(suffix) -%}
    {{ return(name) }}
  {%- endif -%}
  {{ return(name ~ suffix) }}
{%- endmacro %}

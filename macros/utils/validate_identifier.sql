{#- Identifiers that reach SQL from configs are checked before use, so a value
    such as `x"; drop table t; --` fails compilation instead of running. -#}
{% macro validate_identifier(value, field) -%}
  {{ return(adapter.dispatch('validate_identifier', 'steward')(value, field)) }}
{%- endmacro %}

{% macro default__validate_identifier(value, field) -%}
  {%- set pattern = steward.setting('identifier_pattern') -%}
  {%- if value is not string or not modules.re.match(pattern, value) -%}
    {{ exceptions.raise_compiler_error(
        "steward: " ~ field ~ " must be an identifier matching " ~ pattern ~ ", got " ~ (value | tojson)) }}
  {%- endif -%}
  {{ return(value) }}
{%- endmacro %}

{#- A Python value as a SQL literal: numbers as they are, strings quoted, none as null. -#}
{% macro internal_sql_literal(value, field) -%}
  {%- if value is none -%}
    {{ return('null') }}
  {%- elif value is boolean -%}
    {{ exceptions.raise_compiler_error("steward: " ~ field ~ " must be a number or a string, got " ~ (value | tojson)) }}
  {%- elif value is number -%}
    {{ return(value | string) }}
  {%- elif value is string -%}
    {{ return("'" ~ value.replace("'", "''") ~ "'") }}
  {%- endif -%}
  {{ exceptions.raise_compiler_error("steward: " ~ field ~ " must be a number or a string, got " ~ (value | tojson)) }}
{%- endmacro %}

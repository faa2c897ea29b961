{#- A comparison bound: a number, or a string such as a date ('2024-01-01'), as a SQL literal. -#}
{% macro internal_core_bound(value, test_name, argument) -%}
  {%- if value is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if value is boolean or not (value is number or value is string) -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": " ~ argument ~ " must be a number or a string, got " ~ (value | tojson)) }}
  {%- endif -%}
  {{ return(steward.internal_sql_literal(value, test_name ~ " " ~ argument)) }}
{%- endmacro %}

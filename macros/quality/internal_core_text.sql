{#- A text constant as a string-typed SQL expression (for steward_expected and friends). -#}
{% macro internal_core_text(value) -%}
  {{ return("cast(" ~ steward.internal_sql_literal(value | string, 'text') ~ " as " ~ dbt.type_string() ~ ")") }}
{%- endmacro %}

{#- A Python string as a SQL text literal. -#}
{% macro internal_gov_text(value) -%}
  {{ return("cast('" ~ (value | string).replace("'", "''") ~ "' as " ~ dbt.type_string() ~ ")") }}
{%- endmacro %}

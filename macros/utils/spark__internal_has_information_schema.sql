{#- Open-source Spark's catalog has no information_schema (only DESCRIBE and SHOW commands, which a view cannot select from). -#}
{% macro spark__internal_has_information_schema() -%}
  {{ return(false) }}
{%- endmacro %}

{#- Spark's regexp_replace replaces every match; its fourth argument is a start position, not flags. -#}
{% macro spark__internal_gov_regex_remove(value, pattern) -%}
  {{ return("regexp_replace(" ~ value ~ ", '" ~ pattern ~ "', '')") }}
{%- endmacro %}

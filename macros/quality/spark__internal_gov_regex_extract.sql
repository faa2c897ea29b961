{#- Spark: regexp_extract returns '' when nothing matches; the other adapters return NULL. -#}
{% macro spark__internal_gov_regex_extract(value, pattern) -%}
  {{ return("nullif(regexp_extract(" ~ value ~ ", " ~ pattern ~ ", 0), '')") }}
{%- endmacro %}

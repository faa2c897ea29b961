{#- Spark: RLIKE finds a Java regular expression anywhere in the value. -#}
{% macro spark__internal_gov_regex_matches(value, pattern) -%}
  {{ return("(" ~ value ~ " rlike " ~ pattern ~ ")") }}
{%- endmacro %}

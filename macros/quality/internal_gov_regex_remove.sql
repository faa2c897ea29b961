{#- A text expression with every match of a regular expression (a string constant) removed. -#}
{% macro internal_gov_regex_remove(value, pattern) -%}
  {{ return(adapter.dispatch('internal_gov_regex_remove', 'steward')(value, pattern)) }}
{%- endmacro %}

{#- The 'g' flag replaces every match (PostgreSQL, DuckDB). -#}
{% macro default__internal_gov_regex_remove(value, pattern) -%}
  {{ return("regexp_replace(" ~ value ~ ", '" ~ pattern ~ "', '', 'g')") }}
{%- endmacro %}

{#- Whether a regular expression (a SQL expression) matches anywhere in a text expression. -#}
{% macro internal_gov_regex_matches(value, pattern) -%}
  {{ return(adapter.dispatch('internal_gov_regex_matches', 'steward')(value, pattern)) }}
{%- endmacro %}

{% macro default__internal_gov_regex_matches(value, pattern) -%}
  {{ return("(" ~ value ~ " ~ " ~ pattern ~ ")") }}
{%- endmacro %}

{% macro duckdb__internal_gov_regex_matches(value, pattern) -%}
  {{ return("regexp_matches(" ~ value ~ ", " ~ pattern ~ ")") }}
{%- endmacro %}

{#- The first match of a regular expression in a text expression (NULL when none). -#}
{% macro internal_gov_regex_extract(value, pattern) -%}
  {{ return(adapter.dispatch('internal_gov_regex_extract', 'steward')(value, pattern)) }}
{%- endmacro %}

{#- PostgreSQL's substring(... from pattern) returns the first parenthesised group, so the whole
    pattern is wrapped in one. -#}
{% macro default__internal_gov_regex_extract(value, pattern) -%}
  {{ return("substring(" ~ value ~ " from '(' || " ~ pattern ~ " || ')')") }}
{%- endmacro %}

{% macro duckdb__internal_gov_regex_extract(value, pattern) -%}
  {{ return("regexp_extract(" ~ value ~ ", " ~ pattern ~ ")") }}
{%- endmacro %}

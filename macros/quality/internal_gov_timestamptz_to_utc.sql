{#- A timestamp-with-time-zone expression as its UTC wall time (timestamp without time zone);
    the same SQL on DuckDB and PostgreSQL. -#}
{% macro internal_gov_timestamptz_to_utc(expression) -%}
  {{ return(adapter.dispatch('internal_gov_timestamptz_to_utc', 'steward')(expression)) }}
{%- endmacro %}

{% macro default__internal_gov_timestamptz_to_utc(expression) -%}
  {{ return("((" ~ expression ~ ") at time zone 'UTC')") }}
{%- endmacro %}

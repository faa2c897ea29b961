{#- The current time as a timestamp WITHOUT time zone in UTC: the `run_timestamp` setting when
    set (read as UTC), else the warehouse clock converted to UTC. -#}
{% macro internal_gov_utc_now() -%}
  {%- if steward.setting('run_timestamp') -%}
    {{ return(steward.run_timestamp()) }}
  {%- endif -%}
  {{ return(adapter.dispatch('internal_gov_utc_now', 'steward')()) }}
{%- endmacro %}

{% macro default__internal_gov_utc_now() -%}
  {{ return("cast(" ~ dbt.current_timestamp() ~ " as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{#- DuckDB: current_timestamp is a TIMESTAMP WITH TIME ZONE; AT TIME ZONE 'UTC' gives its UTC wall time. -#}
{% macro duckdb__internal_gov_utc_now() -%}
  {{ return("(current_timestamp at time zone 'UTC')") }}
{%- endmacro %}

{#- PostgreSQL: now() is a timestamptz (the transaction start); AT TIME ZONE 'utc' gives its UTC wall time. -#}
{% macro postgres__internal_gov_utc_now() -%}
  {{ return("(now() at time zone 'utc')") }}
{%- endmacro %}

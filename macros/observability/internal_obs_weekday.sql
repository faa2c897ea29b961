{#- Day of week (0 = Sunday) of a date or timestamp expression; dbt has no cross-database
    macro for it, and `extract(dow ...)` is what PostgreSQL, DuckDB and Redshift share. -#}
{% macro internal_obs_weekday(expression) -%}
  {{ return(adapter.dispatch('internal_obs_weekday', 'steward')(expression)) }}
{%- endmacro %}

{% macro default__internal_obs_weekday(expression) -%}
  extract(dow from {{ expression }})
{%- endmacro %}

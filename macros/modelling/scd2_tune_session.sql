{#- Statements run before an scd2 run's staging query, for engines that need a hint.
    PostgreSQL's JIT compiles the large staging query for seconds and saves less than it costs. -#}
{% macro scd2_tune_session() -%}
  {{ return(adapter.dispatch('scd2_tune_session', 'steward')()) }}
{%- endmacro %}

{% macro default__scd2_tune_session() -%}
  {{ return('') }}
{%- endmacro %}

{% macro postgres__scd2_tune_session() -%}
  {{ return('set local jit = off') }}
{%- endmacro %}

{#- The keyword that tells the engine whether to inline a CTE where it is referenced
    (materialized=false) or to compute it once (true). The scd2 query reads the source and the
    history's current versions in more than one place, where a copy of a million rows would cost
    more than reading a few columns twice; its events, hashed once, are read several times. -#}
{% macro scd2_cte_keyword(materialized) -%}
  {{ return(adapter.dispatch('scd2_cte_keyword', 'steward')(materialized)) }}
{%- endmacro %}

{% macro default__scd2_cte_keyword(materialized) -%}
  {{ return('') }}
{%- endmacro %}

{% macro duckdb__scd2_cte_keyword(materialized) -%}
  {{ return('materialized' if materialized else 'not materialized') }}
{%- endmacro %}

{% macro postgres__scd2_cte_keyword(materialized) -%}
  {{ return('materialized' if materialized else 'not materialized') }}
{%- endmacro %}

{#- The key a fact stores for a dimension after a LEFT JOIN: the unknown member when unmatched. -#}
{% macro member_key(fact_key, dimension_key, unknown_key=none) -%}
  {{ return(adapter.dispatch('member_key', 'steward')(fact_key, dimension_key, unknown_key)) }}
{%- endmacro %}

{#- After `left join dim on fact.key = dim.key`, the dimension's key is NULL exactly when
    the fact's key is NULL or has no dimension row; both map to the unknown member. -#}
{% macro default__member_key(fact_key, dimension_key, unknown_key=none) -%}
  {%- set fact_key = steward.internal_column_reference(fact_key, 'member_key fact_key') -%}
  {%- set dimension_key = steward.internal_column_reference(dimension_key, 'member_key dimension_key') -%}
  {%- set key_literal = steward.internal_sql_literal(
      unknown_key if unknown_key is not none else steward.setting('unknown_member_key'), 'unknown_key') -%}
  case when {{ dimension_key }} is null then {{ key_literal }} else {{ fact_key }} end
{%- endmacro %}

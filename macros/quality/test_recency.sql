{#- The newest value of `field` (per group_by group) is at most max_age old. -#}
{% test recency(model, field, max_age, group_by=none) %}
  {{ config(meta={'steward_dimension': 'timeliness'}) }}
  {{ return(adapter.dispatch('test_recency', 'steward')(model, field, max_age, group_by)) }}
{% endtest %}

{% macro default__test_recency(model, field, max_age, group_by=none) %}
  {%- if max_age is none -%}
    {{ exceptions.raise_compiler_error("steward.recency: max_age is required, e.g. '6h', '2 days' or '30m'") }}
  {%- endif -%}
  {%- set seconds = steward.duration_seconds(max_age, 'steward.recency max_age') -%}
  {{ return(steward.internal_gov_recency_sql(model, field, max_age, seconds, group_by, 'recency')) }}
{% endmacro %}

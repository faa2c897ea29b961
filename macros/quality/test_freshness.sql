{#- recency with max_age from the model's meta steward_freshness_sla, else the freshness_sla setting. -#}
{% test freshness(model, field, group_by=none) %}
  {{ config(meta={'steward_dimension': 'timeliness'}) }}
  {{ return(adapter.dispatch('test_freshness', 'steward')(model, field, group_by)) }}
{% endtest %}

{% macro default__test_freshness(model, field, group_by=none) %}
  {%- set meta = steward.internal_gov_tested_meta() -%}
  {%- if meta.get('steward_freshness_sla') -%}
    {%- set sla = meta.get('steward_freshness_sla') -%}
    {%- set source_name = "the model's meta steward_freshness_sla" -%}
  {%- else -%}
    {%- set sla = steward.setting('freshness_sla') -%}
    {%- set source_name = 'the steward setting freshness_sla' -%}
  {%- endif -%}
  {%- set seconds = steward.duration_seconds(sla, 'steward.freshness: ' ~ source_name) -%}
  {{ return(steward.internal_gov_recency_sql(model, field, sla, seconds, group_by, 'freshness')) }}
{% endmacro %}

{#- The load time an incremental scd2 run reads past, as a timestamp literal (none without a watermark).
    It is queried once, before the staging query, rather than computed inside it: as a constant the
    engine can estimate how few source rows pass it and plan the join with the history around them
    (and skip row groups), which a value from a subquery hides. A state source's watermark is its
    newest stored load time, but never later than the last run that stored a version (so one
    future-dated load time cannot hide later changes); a change log's is its newest stored
    scd_loaded_at; both minus watermark_grace. -#}
{% macro scd2_watermark(settings, existing) -%}
  {{ return(adapter.dispatch('scd2_watermark', 'steward')(settings, existing)) }}
{%- endmacro %}

{% macro default__scd2_watermark(settings, existing) -%}
  {%- set s = settings -%}
  {%- if not (s.state_watermark or s.changelog_watermark) -%}{{ return(none) }}{%- endif -%}
  {%- set ts = dbt.type_timestamp() -%}
  {%- set floor = "cast('1900-01-01' as " ~ ts ~ ")" -%}
  {%- set last_run = "coalesce(max(" ~ s.meta.loaded_at ~ "), " ~ floor ~ ")" -%}
  {%- if s.state_watermark -%}
    {%- set latest = "coalesce(max(cast(" ~ s.loaded_at ~ " as " ~ ts ~ ")), " ~ floor ~ ")" -%}
    {%- set newest = "case when " ~ latest ~ " > " ~ last_run ~ " then " ~ last_run ~ " else " ~ latest ~ " end" -%}
  {%- else -%}
    {%- set newest = last_run -%}
  {%- endif -%}
  {%- set since = run_query("select " ~ dbt.dateadd('second', -s.grace_seconds, newest) ~ " from " ~ existing).rows[0][0] -%}
  {{ return("cast('" ~ since.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ ts ~ ")") }}
{%- endmacro %}

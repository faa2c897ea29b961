{#- Durations in configs are written as people write them: 90s, 30m, 6h, 3d, 2w or '2 days', '36 hours'
    (a bare number is seconds). The grammar is steward.internal_duration_seconds. -#}
{% macro duration_seconds(duration, field) -%}
  {{ return(adapter.dispatch('duration_seconds', 'steward')(duration, field)) }}
{%- endmacro %}

{% macro default__duration_seconds(duration, field) -%}
  {%- set seconds = steward.internal_duration_seconds(duration) -%}
  {%- if seconds is none -%}
    {{ exceptions.raise_compiler_error(
        field ~ " must be a duration such as 90s, 30m, 6h, 3d, 2w or '2 days' (at most 100 years), got "
        ~ (duration | tojson)) }}
  {%- endif -%}
  {{ return(seconds) }}
{%- endmacro %}

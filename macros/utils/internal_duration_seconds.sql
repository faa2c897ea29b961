{#- The one grammar of durations, the same pattern as the runner's (runner/steward/config/durations.py):
    a whole number and an optional unit, short (90s, 30m, 6h, 3d, 2w) or a word, singular or plural, in
    any case ('2 days', '1 Week', '90minutes'). Returns the seconds, or none when the text is not a
    duration or is longer than 100 years (36500 days), so callers word the error for their own field. -#}
{% macro internal_duration_seconds(duration) -%}
  {{ return(adapter.dispatch('internal_duration_seconds', 'steward')(duration)) }}
{%- endmacro %}

{% macro default__internal_duration_seconds(duration) -%}
  {%- set match = modules.re.match('(?i)^ *([0-9]+) *([smhdw]|seconds?|minutes?|hours?|days?|weeks?)? *$',
                                   duration | string) -%}
  {%- if not match -%}
    {{ return(none) }}
  {%- endif -%}
  {#- A word names its unit by its first letter, as the short form does; no unit is seconds. -#}
  {%- set unit = (match.group(2) or 's')[:1] | lower -%}
  {%- set seconds = (match.group(1) | int) * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[unit] -%}
  {{ return(seconds if seconds <= 36500 * 86400 else none) }}
{%- endmacro %}

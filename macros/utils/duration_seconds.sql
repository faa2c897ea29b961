{#- Durations in configs are written as people write them: 90s, 30m, 6h, 3d (a bare number is seconds). -#}
{% macro duration_seconds(duration, field) -%}
  {{ return(adapter.dispatch('duration_seconds', 'steward')(duration, field)) }}
{%- endmacro %}

{% macro default__duration_seconds(duration, field) -%}
  {%- set match = modules.re.match('^ *([0-9]+) *([smhdw]?) *$', duration | string) -%}
  {%- if not match -%}
    {{ exceptions.raise_compiler_error(field ~ " must look like 90s, 30m, 6h, 3d or 2w, got " ~ (duration | tojson)) }}
  {%- endif -%}
  {{ return((match.group(1) | int) * {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[match.group(2)]) }}
{%- endmacro %}

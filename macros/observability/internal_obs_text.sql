{#- A recorded text value as a SQL literal: one line, at most `limit` characters, quotes doubled. -#}
{% macro internal_obs_text(value, limit=1000) -%}
  {%- if value is none or (value | string) == '' -%}
    {{ return('null') }}
  {%- endif -%}
  {%- set flat = (value | string).split() | join(' ') -%}
  {{ return("'" ~ flat[:limit].replace("'", "''") ~ "'") }}
{%- endmacro %}

{#- extract(<part> from <expression>) for the parts whose names differ between adapters: `isodow`
    (Monday 1 .. Sunday 7) and `isoyear` (the ISO-8601 week-numbering year). -#}
{% macro internal_date_part(part, expression) -%}
  {{ return(adapter.dispatch('internal_date_part', 'steward')(part, expression)) }}
{%- endmacro %}

{% macro default__internal_date_part(part, expression) -%}
  {{ return('extract(' ~ part ~ ' from ' ~ expression ~ ')') }}
{%- endmacro %}

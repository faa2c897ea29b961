{#- Spark names the ISO weekday dayofweek_iso and the ISO year yearofweek. -#}
{% macro spark__internal_date_part(part, expression) -%}
  {%- set names = {'isodow': 'dayofweek_iso', 'isoyear': 'yearofweek'} -%}
  {{ return('extract(' ~ names.get(part, part) ~ ' from ' ~ expression ~ ')') }}
{%- endmacro %}

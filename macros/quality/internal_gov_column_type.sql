{#- The data type of a column of the tested relation, '' when it cannot be read. -#}
{% macro internal_gov_column_type(model_argument, column, test_name) -%}
  {%- set relation = steward.internal_gov_tested_relation(model_argument, test_name) -%}
  {%- if relation is none or not execute -%}
    {{ return('') }}
  {%- endif -%}
  {%- set wanted = column.split('.')[-1].strip('"`') | lower -%}
  {%- for c in adapter.get_columns_in_relation(relation) -%}
    {%- if c.name | lower == wanted -%}
      {{ return(c.data_type | lower) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return('') }}
{%- endmacro %}

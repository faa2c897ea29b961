{#- The identifying part of a row-level test's failing rows: the key columns when given
    (plus `extra` columns not among them), else every column of the row. -#}
{% macro internal_core_row_context(key_columns, extra=[]) -%}
  {%- if key_columns | length == 0 -%}
    {{ return('*') }}
  {%- endif -%}
  {%- set columns = key_columns | list -%}
  {%- for column in extra -%}
    {%- if column not in columns -%}
      {%- do columns.append(column) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(columns | join(', ')) }}
{%- endmacro %}

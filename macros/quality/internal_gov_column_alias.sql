{#- The unqualified output name of a column reference (`t.col` -> `col`). -#}
{% macro internal_gov_column_alias(reference) -%}
  {{ return(reference.split('.')[-1]) }}
{%- endmacro %}

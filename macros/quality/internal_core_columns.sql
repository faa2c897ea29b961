{#- Argument helpers shared by steward's completeness, uniqueness, validity and accuracy
    tests. Every error names the test and the argument. -#}

{#- A column name or a list of them, each checked with steward.internal_column_reference.
    none (or an empty list when allow_empty) gives []. -#}
{% macro internal_core_columns(value, test_name, argument, allow_empty=true) -%}
  {%- if value is none -%}
    {%- set items = [] -%}
  {%- elif value is string -%}
    {%- set items = [value] -%}
  {%- elif value is mapping or value is not iterable -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": " ~ argument ~ " must be a column name or a list of column names, got "
        ~ (value | tojson)) }}
  {%- else -%}
    {%- set items = value | list -%}
  {%- endif -%}
  {%- if not allow_empty and items | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": " ~ argument ~ " must name at least one column, got " ~ (value | tojson)) }}
  {%- endif -%}
  {%- set columns = [] -%}
  {%- for item in items -%}
    {%- do columns.append(steward.internal_column_reference(item, test_name ~ " " ~ argument)) -%}
  {%- endfor -%}
  {%- if columns | unique | list | length != columns | length -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": " ~ argument ~ " names a column twice: " ~ (value | tojson)) }}
  {%- endif -%}
  {{ return(columns) }}
{%- endmacro %}

{#- Helpers shared by steward's consistency, timeliness, schema and PII tests. -#}

{#- A column argument given as one name or a list of names, validated; [] for none. -#}
{% macro internal_gov_column_list(value, test_name, argument, allow_empty=true) -%}
  {%- if value is none -%}
    {%- set items = [] -%}
  {%- elif value is string -%}
    {%- set items = [value] -%}
  {%- elif value is mapping or value is not iterable -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": " ~ argument ~ " must be a column name or a list of them, got " ~ (value | tojson)) }}
  {%- else -%}
    {%- set items = value | list -%}
  {%- endif -%}
  {%- if not allow_empty and items | length == 0 -%}
    {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": " ~ argument ~ " must name at least one column") }}
  {%- endif -%}
  {%- set result = [] -%}
  {%- for item in items -%}
    {%- do result.append(steward.internal_column_reference(item, test_name ~ ' ' ~ argument)) -%}
  {%- endfor -%}
  {{ return(result) }}
{%- endmacro %}

{#- Every non-NULL value of column_name has a length between min_length and max_length (inclusive). -#}
{% test string_length_between(model, column_name, min_length=none, max_length=none, key_columns=none) %}
  {{ config(meta={'steward_dimension': 'validity'}) }}
  {{ return(adapter.dispatch('test_string_length_between', 'steward')(model, column_name, min_length, max_length, key_columns)) }}
{% endtest %}

{#- Failing rows: the key_columns and the column (or the whole row), steward_actual (the
    length in characters, dbt.length) and steward_expected. NULLs are not failures. -#}
{% macro default__test_string_length_between(model, column_name, min_length=none, max_length=none, key_columns=none) %}
  {%- set test_name = 'string_length_between' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set keys = steward.internal_core_columns(key_columns, test_name, 'key_columns') -%}
  {%- set low = steward.internal_core_number(min_length, test_name, 'min_length', required=false, minimum=0, integer=true) -%}
  {%- set high = steward.internal_core_number(max_length, test_name, 'max_length', required=false, minimum=0, integer=true) -%}
  {%- if low is none and high is none -%}
    {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": give min_length, max_length or both") }}
  {%- endif -%}
  {%- if low is not none and high is not none and low > high -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": min_length (" ~ low ~ ") is greater than max_length (" ~ high ~ ")") }}
  {%- endif -%}
  {%- set length = dbt.length(column) -%}
  {%- set failures = [] -%}
  {%- if low is not none -%}{%- do failures.append(length ~ ' < ' ~ low) -%}{%- endif -%}
  {%- if high is not none -%}{%- do failures.append(length ~ ' > ' ~ high) -%}{%- endif -%}
  {%- if low is not none and high is not none -%}
    {%- set expected = 'length between ' ~ low ~ ' and ' ~ high -%}
  {%- elif low is not none -%}
    {%- set expected = 'length >= ' ~ low -%}
  {%- else -%}
    {%- set expected = 'length <= ' ~ high -%}
  {%- endif %}
select
    {{ steward.internal_core_row_context(keys, [column]) }},
    {{ length }} as steward_actual,
    {{ steward.internal_core_text(expected) }} as steward_expected
from {{ model }}
where {{ column }} is not null
    and ({{ failures | join(' or ') }})
{% endmacro %}

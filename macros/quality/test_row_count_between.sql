{#- The number of rows (per group with group_by) is between min_value and max_value (inclusive). -#}
{% test row_count_between(model, min_value=none, max_value=none, group_by=none) %}
  {{ config(meta={'steward_dimension': 'completeness'}) }}
  {{ return(adapter.dispatch('test_row_count_between', 'steward')(model, min_value, max_value, group_by)) }}
{% endtest %}

{#- Without group_by the model is counted as a whole (0 rows is a count like any other);
    with group_by only groups that have rows exist, so a missing group is not seen. -#}
{% macro default__test_row_count_between(model, min_value=none, max_value=none, group_by=none) %}
  {%- set test_name = 'row_count_between' -%}
  {%- set low = steward.internal_core_number(min_value, test_name, 'min_value', required=false, minimum=0, integer=true) -%}
  {%- set high = steward.internal_core_number(max_value, test_name, 'max_value', required=false, minimum=0, integer=true) -%}
  {%- if low is none and high is none -%}
    {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": give min_value, max_value or both") }}
  {%- endif -%}
  {%- if low is not none and high is not none and low > high -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": min_value (" ~ low ~ ") is greater than max_value (" ~ high ~ ")") }}
  {%- endif -%}
  {%- set groups = steward.internal_core_columns(group_by, test_name, 'group_by') -%}
  {%- set group_select = (groups | join(', ') ~ ', ') if groups else '' -%}
  {%- if low is not none and high is not none -%}
    {%- set expected = 'between ' ~ low ~ ' and ' ~ high -%}
  {%- elif low is not none -%}
    {%- set expected = '>= ' ~ low -%}
  {%- else -%}
    {%- set expected = '<= ' ~ high -%}
  {%- endif -%}
  {%- set conditions = [] -%}
  {%- if low is not none -%}{%- do conditions.append('row_count < ' ~ low) -%}{%- endif -%}
  {%- if high is not none -%}{%- do conditions.append('row_count > ' ~ high) -%}{%- endif %}
with steward_counts as (
    select
        {{ group_select }}count(*) as row_count
    from {{ model }}
    {%- if groups %}
    group by {{ groups | join(', ') }}
    {%- endif %}
)

select
    {{ group_select }}row_count,
    cast({{ low if low is not none else 'null' }} as {{ dbt.type_bigint() }}) as min_value,
    cast({{ high if high is not none else 'null' }} as {{ dbt.type_bigint() }}) as max_value,
    {{ steward.internal_core_text(expected) }} as steward_expected
from steward_counts
where {{ conditions | join(' or ') }}
{% endmacro %}

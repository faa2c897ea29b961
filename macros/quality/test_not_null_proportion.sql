{#- The share of non-NULL values of column_name is at least at_least (per group with group_by). -#}
{% test not_null_proportion(model, column_name, at_least, group_by=none) %}
  {{ config(meta={'steward_dimension': 'completeness'}) }}
  {{ return(adapter.dispatch('test_not_null_proportion', 'steward')(model, column_name, at_least, group_by)) }}
{% endtest %}

{#- One row per failing group (or one row without group_by). The comparison is exact
    (non_null_count < at_least * row_count); steward_actual is the share rounded to 6 places.
    An empty model (or group) has no share and never fails: pair with not_empty. -#}
{% macro default__test_not_null_proportion(model, column_name, at_least, group_by=none) %}
  {%- set test_name = 'not_null_proportion' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set at_least = steward.internal_core_number(at_least, test_name, 'at_least', minimum=0, maximum=1) -%}
  {%- set groups = steward.internal_core_columns(group_by, test_name, 'group_by') -%}
  {%- set group_select = (groups | join(', ') ~ ', ') if groups else '' %}
with steward_counts as (
    select
        {{ group_select }}count(*) as row_count,
        count({{ column }}) as non_null_count
    from {{ model }}
    {%- if groups %}
    group by {{ groups | join(', ') }}
    {%- endif %}
)

select
    {{ group_select }}round(cast(non_null_count as {{ dbt.type_numeric() }}) / row_count, 6) as steward_actual,
    {{ steward.internal_core_text('>= ' ~ at_least) }} as steward_expected,
    row_count,
    row_count - non_null_count as null_count
from steward_counts
where row_count > 0 and non_null_count < {{ at_least }} * row_count
{% endmacro %}

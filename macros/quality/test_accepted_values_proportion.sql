{#- At least `at_least` of the non-NULL values of column_name are in `values`. -#}
{% test accepted_values_proportion(model, column_name, values, at_least) %}
  {{ config(meta={'steward_dimension': 'validity'}) }}
  {{ return(adapter.dispatch('test_accepted_values_proportion', 'steward')(model, column_name, values, at_least)) }}
{% endtest %}

{#- One failing row: steward_actual (the share, rounded to 6 places), steward_expected,
    row_count (non-NULL values), accepted_count and top_unexpected_values (the five most
    frequent values not in the list, as 'value (count)'). NULLs are left out, as in dbt's
    accepted_values; the comparison is exact (accepted_count < at_least * row_count). -#}
{% macro default__test_accepted_values_proportion(model, column_name, values, at_least) %}
  {%- set test_name = 'accepted_values_proportion' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set at_least = steward.internal_core_number(at_least, test_name, 'at_least', minimum=0, maximum=1) -%}
  {%- if values is string or values is mapping or values is not iterable or values | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": values must be a non-empty list of numbers or strings, got " ~ (values | tojson)) }}
  {%- endif -%}
  {%- set literals = [] -%}
  {%- for value in values -%}
    {%- do literals.append(steward.internal_core_bound(value, test_name, 'values item')) -%}
  {%- endfor -%}
  {%- set value_text = 'cast(steward_value as ' ~ dbt.type_string() ~ ')' %}
with steward_values as (
    select
        {{ column }} as steward_value,
        case when {{ column }} in ({{ literals | join(', ') }}) then 1 else 0 end as steward_accepted
    from {{ model }}
    where {{ column }} is not null
),

steward_totals as (
    select
        count(*) as row_count,
        coalesce(sum(steward_accepted), 0) as accepted_count
    from steward_values
),

steward_unexpected as (
    select
        {{ dbt.concat([value_text, "' ('", "cast(count(*) as " ~ dbt.type_string() ~ ")", "')'"]) }} as steward_label,
        count(*) as steward_count,
        {{ value_text }} as steward_text
    from steward_values
    where steward_accepted = 0
    group by steward_value
),

steward_top as (
    select
        {{ steward.internal_core_top_labels('steward_label', 'steward_count', 'steward_text', 5) }} as top_unexpected_values
    from steward_unexpected
)

select
    round(cast(steward_totals.accepted_count as {{ dbt.type_numeric() }}) / steward_totals.row_count, 6) as steward_actual,
    {{ steward.internal_core_text('>= ' ~ at_least ~ ' of non-null values in the accepted list') }} as steward_expected,
    steward_totals.row_count,
    steward_totals.accepted_count,
    steward_top.top_unexpected_values
from steward_totals
cross join steward_top
where steward_totals.row_count > 0
    and steward_totals.accepted_count < {{ at_least }} * steward_totals.row_count
{% endmacro %}

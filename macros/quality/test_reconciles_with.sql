{#- sum(measure) of the model equals sum(compare_measure) of compare_model, per group,
    within a tolerance. -#}
{% test reconciles_with(model, compare_model, measure, compare_measure=none, tolerance=0, tolerance_kind='absolute', group_by=none, compare_group_by=none) %}
  {{ config(meta={'steward_dimension': 'accuracy'}) }}
  {{ return(adapter.dispatch('test_reconciles_with', 'steward')(model, compare_model, measure, compare_measure, tolerance, tolerance_kind, group_by, compare_group_by)) }}
{% endtest %}

{#- Both sides are stacked with union all and grouped, which is a NULL-safe full outer join
    of their groups: a group present on one side only has sum 0 on the other, and NULL
    measure values count as 0. Failing rows: the group (named as in group_by), model_sum,
    compare_sum, difference (model_sum - compare_sum), tolerance, model_row_count,
    compare_row_count and steward_expected. A group fails when abs(difference) > tolerance
    ('absolute') or > tolerance * abs(compare_sum) ('relative'). -#}
{% macro default__test_reconciles_with(model, compare_model, measure, compare_measure=none, tolerance=0, tolerance_kind='absolute', group_by=none, compare_group_by=none) %}
  {%- set test_name = 'reconciles_with' -%}
  {%- set measure_column = steward.internal_column_reference(measure, test_name ~ ' measure') -%}
  {%- set compare_column = steward.internal_column_reference(
      compare_measure if compare_measure is not none else measure, test_name ~ ' compare_measure') -%}
  {%- set tolerance = steward.internal_core_number(tolerance, test_name, 'tolerance', minimum=0) -%}
  {%- if tolerance_kind not in ['absolute', 'relative'] -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": tolerance_kind must be 'absolute' or 'relative', got " ~ (tolerance_kind | tojson)) }}
  {%- endif -%}
  {%- if compare_model is none or compare_model is number or compare_model is boolean -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": compare_model must be a relation, e.g. ref('other_model'), got " ~ (compare_model | string | tojson)) }}
  {%- endif -%}
  {%- set groups = steward.internal_core_columns(group_by, test_name, 'group_by') -%}
  {%- set compare_groups = steward.internal_core_columns(
      compare_group_by if compare_group_by is not none else group_by, test_name, 'compare_group_by') -%}
  {%- if groups | length != compare_groups | length -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": compare_group_by must name as many columns as group_by ("
        ~ groups | length ~ "), got " ~ (compare_group_by | tojson)) }}
  {%- endif -%}
  {%- set names = [] -%}
  {%- for group in groups -%}
    {%- do names.append(group.split('.')[-1]) -%}
  {%- endfor -%}
  {%- set group_cols = (names | join(', ') ~ ', ') if names else '' -%}
  {%- if tolerance_kind == 'absolute' -%}
    {%- set limit = tolerance | string -%}
    {%- set expected = 'abs(model_sum - compare_sum) <= ' ~ tolerance -%}
  {%- else -%}
    {%- set limit = tolerance ~ ' * abs(compare_sum)' -%}
    {%- set expected = 'abs(model_sum - compare_sum) <= ' ~ tolerance ~ ' * abs(compare_sum)' -%}
  {%- endif %}
with steward_stacked as (
    select
        {%- for group in groups %}
        {{ group }} as {{ names[loop.index0] }},
        {%- endfor %}
        {{ measure_column }} as steward_model_measure,
        null as steward_compare_measure,
        1 as steward_in_model,
        0 as steward_in_compare
    from {{ model }}
    union all
    select
        {%- for group in compare_groups %}
        {{ group }} as {{ names[loop.index0] }},
        {%- endfor %}
        null as steward_model_measure,
        {{ compare_column }} as steward_compare_measure,
        0 as steward_in_model,
        1 as steward_in_compare
    from {{ compare_model }}
),

steward_sums as (
    select
        {{ group_cols }}coalesce(sum(steward_model_measure), 0) as model_sum,
        coalesce(sum(steward_compare_measure), 0) as compare_sum,
        sum(steward_in_model) as model_row_count,
        sum(steward_in_compare) as compare_row_count
    from steward_stacked
    {%- if groups %}
    group by {{ names | join(', ') }}
    {%- endif %}
)

select
    {{ group_cols }}model_sum,
    compare_sum,
    model_sum - compare_sum as difference,
    {{ tolerance }} as tolerance,
    model_row_count,
    compare_row_count,
    {{ steward.internal_core_text(expected) }} as steward_expected
from steward_sums
where abs(model_sum - compare_sum) > {{ limit }}
{% endmacro %}

{#- A SQL expression holds: per row, or per group over aggregates when group_by is given. -#}
{% test expression_is_true(model, expression, group_by=none) %}
  {{ config(meta={'steward_dimension': 'accuracy'}) }}
  {{ return(adapter.dispatch('test_expression_is_true', 'steward')(model, expression, group_by)) }}
{% endtest %}

{#- Without group_by: the rows where the expression is false (whole rows), plus
    steward_expression. With group_by: one row per group where the aggregate expression is
    false, with the group, row_count and steward_expression. As in a CHECK constraint, an
    expression that is NULL (unknown) is not a failure. -#}
{% macro default__test_expression_is_true(model, expression, group_by=none) %}
  {%- set test_name = 'expression_is_true' -%}
  {%- if expression is not string or expression | trim | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": expression must be a non-empty SQL expression string, got " ~ (expression | tojson)) }}
  {%- endif -%}
  {%- set groups = steward.internal_core_columns(group_by, test_name, 'group_by') -%}
  {%- if groups %}
select
    {{ groups | join(', ') }},
    count(*) as row_count,
    {{ steward.internal_core_text(expression) }} as steward_expression
from {{ model }}
group by {{ groups | join(', ') }}
having not ({{ expression }})
  {%- else %}
select
    *,
    {{ steward.internal_core_text(expression) }} as steward_expression
from {{ model }}
where not ({{ expression }})
  {%- endif %}
{% endmacro %}

{#- Child values (rows filtered by from_condition) that have no parent (rows filtered by to_condition). -#}
{% test relationships_where(model, column_name, to, field, from_condition=none, to_condition=none) %}
  {{ config(meta={'steward_dimension': 'consistency'}) }}
  {{ return(adapter.dispatch('test_relationships_where', 'steward')(model, column_name, to, field, from_condition, to_condition)) }}
{% endtest %}

{% macro default__test_relationships_where(model, column_name, to, field, from_condition=none, to_condition=none) %}
  {%- set child = steward.internal_column_reference(column_name, 'relationships_where column_name') -%}
  {%- set parent = steward.internal_column_reference(field, 'relationships_where field') -%}
  {%- for condition, name in [(from_condition, 'from_condition'), (to_condition, 'to_condition')] -%}
    {%- if condition is not none and (condition is not string or condition | trim | length == 0) -%}
      {{ exceptions.raise_compiler_error("steward.relationships_where: " ~ name ~ " must be a SQL condition, got " ~ (condition | tojson)) }}
    {%- endif -%}
  {%- endfor %}
with steward_child as (
    select {{ child }} as steward_value
    from {{ model }}
    where {{ child }} is not null and ({{ from_condition or '1 = 1' }})
),

steward_parent as (
    select {{ parent }} as steward_value
    from {{ to }}
    where {{ parent }} is not null and ({{ to_condition or '1 = 1' }})
)

select
    steward_child.steward_value,
    count(*) as steward_row_count,
    {{ steward.internal_gov_text('present in ' ~ to ~ '.' ~ field ~ (' where ' ~ to_condition if to_condition else '')) }} as steward_expected
from steward_child
where not exists (
    select 1 from steward_parent
    where steward_parent.steward_value = steward_child.steward_value
)
group by steward_child.steward_value
{% endmacro %}

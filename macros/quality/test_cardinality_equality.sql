{#- The distinct values of model.column_name and to.field are the same set. -#}
{% test cardinality_equality(model, column_name, to, field) %}
  {{ config(meta={'steward_dimension': 'consistency'}) }}
  {{ return(adapter.dispatch('test_cardinality_equality', 'steward')(model, column_name, to, field)) }}
{% endtest %}

{#- NULLs are not values here: they are ignored on both sides. -#}
{% macro default__test_cardinality_equality(model, column_name, to, field) %}
  {%- set left = steward.internal_column_reference(column_name, 'cardinality_equality column_name') -%}
  {%- set right = steward.internal_column_reference(field, 'cardinality_equality field') %}
with steward_model_values as (
    select distinct {{ left }} as steward_value from {{ model }} where {{ left }} is not null
),

steward_to_values as (
    select distinct {{ right }} as steward_value from {{ to }} where {{ right }} is not null
)

select
    steward_value,
    {{ steward.internal_gov_text('to') }} as steward_missing_from,
    {{ steward.internal_gov_text('present in both the model and ' ~ to ~ '.' ~ field) }} as steward_expected
from steward_model_values
where not exists (select 1 from steward_to_values where steward_to_values.steward_value = steward_model_values.steward_value)
union all
select
    steward_value,
    {{ steward.internal_gov_text('model') }} as steward_missing_from,
    {{ steward.internal_gov_text('present in both the model and ' ~ to ~ '.' ~ field) }} as steward_expected
from steward_to_values
where not exists (select 1 from steward_model_values where steward_model_values.steward_value = steward_to_values.steward_value)
{% endmacro %}

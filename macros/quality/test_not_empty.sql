{#- The model (after the test's `where`) has at least one row. -#}
{% test not_empty(model) %}
  {{ config(meta={'steward_dimension': 'completeness'}) }}
  {{ return(adapter.dispatch('test_not_empty', 'steward')(model)) }}
{% endtest %}

{#- One failing row when there is nothing: steward_actual 0, steward_expected 'at least 1 row'. -#}
{% macro default__test_not_empty(model) %}
select
    cast(0 as {{ dbt.type_bigint() }}) as steward_actual,
    {{ steward.internal_core_text('at least 1 row') }} as steward_expected
where not exists (select 1 from {{ model }})
{% endmacro %}

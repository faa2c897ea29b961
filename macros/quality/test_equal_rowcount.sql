{#- The model and compare_model have the same number of rows (per group_by group). -#}
{% test equal_rowcount(model, compare_model, group_by=none) %}
  {{ config(meta={'steward_dimension': 'consistency'}) }}
  {{ return(adapter.dispatch('test_equal_rowcount', 'steward')(model, compare_model, group_by)) }}
{% endtest %}

{#- Counts from both sides are stacked with union all and summed per group, so groups present
    on one side only count 0 on the other, and a NULL group value is a group like any other
    (no full outer join, whose null-safe join condition PostgreSQL cannot run). -#}
{% macro default__test_equal_rowcount(model, compare_model, group_by=none) %}
  {%- set groups = steward.internal_gov_column_list(group_by, 'equal_rowcount', 'group_by') -%}
  {%- set aliases = [] -%}
  {%- for g in groups -%}{%- do aliases.append(steward.internal_gov_column_alias(g)) -%}{%- endfor %}
with steward_counts as (
    select
        {% for g in groups %}{{ g }} as {{ aliases[loop.index0] }},
        {% endfor %}count(*) as steward_model_rows,
        0 as steward_compare_rows
    from {{ model }}
    {% if groups %}group by {{ groups | join(', ') }}{% endif %}
    union all
    select
        {% for g in groups %}{{ g }} as {{ aliases[loop.index0] }},
        {% endfor %}0 as steward_model_rows,
        count(*) as steward_compare_rows
    from {{ compare_model }}
    {% if groups %}group by {{ groups | join(', ') }}{% endif %}
),

steward_totals as (
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}sum(steward_model_rows) as steward_model_rows,
        sum(steward_compare_rows) as steward_compare_rows
    from steward_counts
    {% if aliases %}group by {{ aliases | join(', ') }}{% endif %}
)

select
    {% for a in aliases %}{{ a }},
    {% endfor %}steward_model_rows,
    steward_compare_rows,
    steward_model_rows - steward_compare_rows as steward_difference,
    {{ steward.internal_gov_text('same row count as ' ~ compare_model) }} as steward_expected
from steward_totals
where steward_model_rows <> steward_compare_rows
{% endmacro %}

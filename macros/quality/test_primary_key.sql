{#- columns form a primary key: never NULL, and unique together. -#}
{% test primary_key(model, columns) %}
  {{ config(meta={'steward_dimension': 'uniqueness'}) }}
  {{ return(adapter.dispatch('test_primary_key', 'steward')(model, columns)) }}
{% endtest %}

{#- Failing rows: one per duplicated key (steward_actual 'duplicate (n rows)') and one per row
    with a NULL key column (steward_actual 'null in <first NULL column>'). Rows with a NULL
    key are reported as NULLs and not also as duplicates. -#}
{% macro default__test_primary_key(model, columns) %}
  {%- set test_name = 'primary_key' -%}
  {%- set keys = steward.internal_core_columns(columns, test_name, 'columns', allow_empty=false) %}
select
    {{ keys | join(', ') }},
    {{ dbt.concat(["'duplicate ('", "cast(count(*) as " ~ dbt.type_string() ~ ")", "' rows)'"]) }} as steward_actual,
    {{ steward.internal_core_text('unique and not null') }} as steward_expected
from {{ model }}
where {% for key in keys %}{{ key }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
group by {{ keys | join(', ') }}
having count(*) > 1

union all

select
    {{ keys | join(', ') }},
    case
    {%- for key in keys %}
        when {{ key }} is null then {{ steward.internal_core_text('null in ' ~ key) }}
    {%- endfor %}
    end as steward_actual,
    {{ steward.internal_core_text('unique and not null') }} as steward_expected
from {{ model }}
where {% for key in keys %}{{ key }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endmacro %}

{#- No two rows share the same values of combination_of_columns. -#}
{% test unique_combination(model, combination_of_columns, nulls='distinct') %}
  {{ config(meta={'steward_dimension': 'uniqueness'}) }}
  {{ return(adapter.dispatch('test_unique_combination', 'steward')(model, combination_of_columns, nulls)) }}
{% endtest %}

{#- One row per duplicated combination with its duplicate_count (rows sharing it).
    nulls='distinct' (SQL UNIQUE semantics): a row with a NULL in any of the columns is never
    a duplicate. nulls='equal': NULLs compare equal (GROUP BY semantics). -#}
{% macro default__test_unique_combination(model, combination_of_columns, nulls='distinct') %}
  {%- set test_name = 'unique_combination' -%}
  {%- set columns = steward.internal_core_columns(combination_of_columns, test_name, 'combination_of_columns', allow_empty=false) -%}
  {%- if nulls not in ['distinct', 'equal'] -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": nulls must be 'distinct' or 'equal', got " ~ (nulls | tojson)) }}
  {%- endif %}
select
    {{ columns | join(', ') }},
    count(*) as duplicate_count,
    {{ steward.internal_core_text('unique (nulls ' ~ nulls ~ ')') }} as steward_expected
from {{ model }}
{%- if nulls == 'distinct' %}
where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

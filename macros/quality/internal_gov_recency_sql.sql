{#- The recency check behind recency and freshness: one row per group (or one row) whose newest
    value is older than max_age seconds, or that has no value at all. -#}
{% macro internal_gov_recency_sql(model, field, max_age_text, max_age_seconds, group_by, test_name) %}
  {%- set column = steward.internal_column_reference(field, test_name ~ ' field') -%}
  {%- set groups = steward.internal_gov_column_list(group_by, test_name, 'group_by') -%}
  {%- set aliases = [] -%}
  {%- for g in groups -%}{%- do aliases.append(steward.internal_gov_column_alias(g)) -%}{%- endfor -%}
  {%- set data_type = steward.internal_gov_column_type(model, column, test_name) -%}
  {%- if data_type.startswith('date') -%}
    {#- A date is fresh all of its day: it counts as the end of that day. -#}
    {%- set newest_utc = dbt.dateadd('day', 1, 'cast(steward_newest as ' ~ dbt.type_timestamp() ~ ')') -%}
  {%- elif 'with time zone' in data_type or data_type.startswith('timestamptz') -%}
    {%- set newest_utc = steward.internal_gov_timestamptz_to_utc('steward_newest') -%}
  {%- else -%}
    {%- set newest_utc = 'cast(steward_newest as ' ~ dbt.type_timestamp() ~ ')' -%}
  {%- endif %}
with steward_latest as (
    select
        {% for g in groups %}{{ g }} as {{ aliases[loop.index0] }},
        {% endfor %}max({{ column }}) as steward_newest
    from {{ model }}
    {% if groups %}group by {{ groups | join(', ') }}{% endif %}
),

steward_measured as (
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}steward_newest,
        {{ newest_utc }} as steward_newest_utc,
        {{ steward.internal_gov_utc_now() }} as steward_now_utc
    from steward_latest
)

select
    {% for a in aliases %}{{ a }},
    {% endfor %}steward_newest,
    steward_newest_utc,
    steward_now_utc,
    cast({{ dbt.datediff('steward_newest_utc', 'steward_now_utc', 'second') }} as {{ dbt.type_bigint() }}) as steward_age_seconds,
    {{ max_age_seconds }} as steward_max_age_seconds,
    {{ steward.internal_gov_text('newest ' ~ field ~ ' at most ' ~ max_age_text ~ ' old') }} as steward_expected
from steward_measured
where
    steward_newest_utc is null
    or steward_newest_utc < {{ dbt.dateadd('second', -max_age_seconds, 'steward_now_utc') }}
{% endmacro %}

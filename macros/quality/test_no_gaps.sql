{#- No value is missing from column_name between its minimum and maximum (or start/end): no
    missing day, week or month for dates, no missing step for an integer sequence. -#}
{% test no_gaps(model, column_name, interval='day', start=none, end=none, group_by=none) %}
  {{ config(meta={'steward_dimension': 'completeness'}) }}
  {{ return(adapter.dispatch('test_no_gaps', 'steward')(model, column_name, interval, start, end, group_by)) }}
{% endtest %}

{#- The expected values are generated with a recursive CTE per group (both DuckDB and
    PostgreSQL support `with recursive`), from the group's minimum (or `start`) up to its
    maximum (or `end`); every generated value that no row has is a failing row. Dates and
    timestamps are first truncated to the interval (weeks start on Monday), so any row in a
    period covers the period. NULL values are ignored. -#}
{% macro default__test_no_gaps(model, column_name, interval='day', start=none, end=none, group_by=none) %}
  {%- set test_name = 'no_gaps' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set groups = steward.internal_core_columns(group_by, test_name, 'group_by') -%}
  {%- set is_date = interval in ['day', 'week', 'month'] -%}
  {%- if not is_date -%}
    {%- do steward.internal_core_number(interval, test_name, "interval (one of 'day', 'week', 'month' or a positive integer step)", minimum=1, integer=true) -%}
  {%- endif -%}

  {%- set bounds = {} -%}
  {%- for name, value in [('start', start), ('end', end)] -%}
    {%- if value is none -%}
      {%- do bounds.update({name: none}) -%}
    {%- elif is_date -%}
      {%- set text = value if value is string else (value.isoformat() if value.isoformat is defined else '') -%}
      {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "steward." ~ test_name ~ ": " ~ name ~ " must be a date written YYYY-MM-DD when interval is '"
            ~ interval ~ "', got " ~ (value | string | tojson)) }}
      {%- endif -%}
      {%- do bounds.update({name: "cast('" ~ text ~ "' as date)"}) -%}
    {%- else -%}
      {%- do bounds.update({name: steward.internal_core_number(value, test_name, name ~ ' (an integer, as interval is a step)', integer=true)}) -%}
    {%- endif -%}
  {%- endfor -%}

  {%- if is_date -%}
    {%- set normalize = "cast(" ~ dbt.date_trunc(interval, "cast(__value__ as " ~ dbt.type_timestamp() ~ ")") ~ " as date)" -%}
    {%- set next_value = "cast(" ~ dbt.dateadd(interval, 1, 'steward_series.steward_value') ~ " as date)" -%}
    {%- set value_type = 'date' -%}
    {%- set expected = 'every ' ~ interval ~ ' from range start to range end' -%}
  {%- else -%}
    {%- set normalize = "cast(__value__ as " ~ dbt.type_bigint() ~ ")" -%}
    {%- set next_value = "cast(steward_series.steward_value + " ~ interval ~ " as " ~ dbt.type_bigint() ~ ")" -%}
    {%- set value_type = dbt.type_bigint() -%}
    {%- set expected = 'every value from range start to range end in steps of ' ~ interval -%}
  {%- endif -%}
  {%- set low = normalize.replace('__value__', bounds.start | string) if bounds.start is not none else 'min(steward_value)' -%}
  {%- set high = normalize.replace('__value__', bounds.end | string) if bounds.end is not none else 'max(steward_value)' -%}

  {%- set aliases = [] -%}
  {%- for group in groups -%}
    {%- do aliases.append('steward_group_' ~ loop.index) -%}
  {%- endfor -%}
  {%- set group_cols = (aliases | join(', ') ~ ', ') if aliases else '' -%}
  {%- set series_group_cols = [] -%}
  {%- for alias in aliases -%}
    {%- do series_group_cols.append('steward_series.' ~ alias) -%}
  {%- endfor %}
with recursive steward_present as (
    select
        {%- for group in groups %}
        {{ group }} as {{ aliases[loop.index0] }},
        {%- endfor %}
        {{ normalize.replace('__value__', column) }} as steward_value
    from {{ model }}
    where {{ column }} is not null
),

steward_bounds as (
    select
        {{ group_cols }}cast({{ low }} as {{ value_type }}) as steward_low,
        cast({{ high }} as {{ value_type }}) as steward_high
    {%- if groups or bounds.start is none or bounds.end is none %}
    from steward_present
    {%- endif %}
    {%- if groups %}
    group by {{ aliases | join(', ') }}
    {%- endif %}
),

steward_series as (
    select
        {{ group_cols }}steward_low,
        steward_high,
        steward_low as steward_value
    from steward_bounds
    where steward_low is not null and steward_high is not null
    union all
    select
        {{ (series_group_cols | join(', ') ~ ', ') if series_group_cols else '' }}steward_series.steward_low,
        steward_series.steward_high,
        {{ next_value }} as steward_value
    from steward_series
    where {{ next_value }} <= steward_series.steward_high
)

select
    {%- for group in groups %}
    steward_series.{{ aliases[loop.index0] }} as {{ group.split('.')[-1] }},
    {%- endfor %}
    steward_series.steward_value as steward_missing_value,
    steward_series.steward_low as steward_range_start,
    steward_series.steward_high as steward_range_end,
    {{ steward.internal_core_text(expected) }} as steward_expected
from steward_series
where not exists (
    select 1
    from steward_present
    where steward_present.steward_value = steward_series.steward_value
    {%- for alias in aliases %}
        and {{ steward.internal_core_null_safe_equal('steward_present.' ~ alias, 'steward_series.' ~ alias) }}
    {%- endfor %}
)
{% endmacro %}

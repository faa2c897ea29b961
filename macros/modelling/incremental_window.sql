{#- The filter of an incremental model, with a grace window for late-arriving rows, and
    the fixed window a backfill asks for through vars. -#}
{% macro incremental_window(event_time, lookback) -%}
  {{ return(adapter.dispatch('incremental_window', 'steward')(event_time, lookback)) }}
{%- endmacro %}

{% macro default__incremental_window(event_time, lookback) -%}
  {%- set column = steward.internal_column_reference(event_time, 'incremental_window event_time') -%}

  {#- lookback: a whole number of days (3 or '3'), a number of months ('1 month': calendar months), or a
      duration in steward's grammar ('48 hours', '90m', '2w'), read as its largest whole unit so the SQL
      stays as simple as the lookback ('48 hours' is 2 days). -#}
  {%- set months = modules.re.match('(?i)^ *([0-9]+) *months? *$', lookback) if lookback is string else none -%}
  {%- if lookback is number and lookback is not boolean and lookback | int == lookback and lookback >= 0 -%}
    {%- set amount, unit = lookback | int, 'day' -%}
  {%- elif lookback is string and modules.re.match('^ *[0-9]+ *$', lookback) -%}
    {%- set amount, unit = lookback | trim | int, 'day' -%}
  {%- elif months -%}
    {%- set amount, unit = months.group(1) | int, 'month' -%}
  {%- elif lookback is string and steward.internal_duration_seconds(lookback) is not none -%}
    {%- set seconds = steward.internal_duration_seconds(lookback) -%}
    {%- set whole = namespace(amount=seconds, unit='second') -%}
    {%- for name, size in [('minute', 60), ('hour', 3600), ('day', 86400)] if seconds % size == 0 -%}
      {%- set whole.amount = seconds // size -%}
      {%- set whole.unit = name -%}
    {%- endfor -%}
    {%- set amount, unit = whole.amount, whole.unit -%}
  {%- else -%}
    {{ exceptions.raise_compiler_error(
        "steward.incremental_window: lookback must be a whole number of days (e.g. 3), a duration such as "
        ~ "90s, 30m, 6h, 3d, 2w or '2 days' (at most 100 years), or a number of months ('1 month'), got "
        ~ (lookback | tojson)) }}
  {%- endif -%}

  {#- A backfill window from vars wins over everything else. -#}
  {%- set bounds = [] -%}
  {%- for name, operator in [('steward_window_start', '>='), ('steward_window_end', '<')] -%}
    {%- set value = var(name, none) -%}
    {%- if value is not none and value | string | trim != '' -%}
      {%- set value = value | string | trim -%}
      {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?)?$', value) -%}
        {{ exceptions.raise_compiler_error(
            "steward.incremental_window: var " ~ name ~ " must be an ISO date or timestamp "
            ~ "(2024-01-31 or 2024-01-31 12:00:00), got " ~ (value | tojson)) }}
      {%- endif -%}
      {%- do bounds.append(column ~ " " ~ operator ~ " cast('" ~ value ~ "' as " ~ dbt.type_timestamp() ~ ")") -%}
    {%- endif -%}
  {%- endfor -%}

  {%- if bounds -%}
    ({{ bounds | join(' and ') }})
  {%- elif is_incremental() -%}
    {%- set target_column = column.split('.') | last -%}
    ({{ column }} >= (select {{ steward.internal_window_floor(dbt.dateadd(unit, 0 - amount, 'max(' ~ target_column ~ ')')) }} from {{ this }})
        or (select max({{ target_column }}) from {{ this }}) is null)
  {%- else -%}
    1 = 1
  {%- endif -%}
{%- endmacro %}

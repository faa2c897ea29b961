{#- The filter of an incremental model, with a grace window for late-arriving rows, and
    the fixed window a backfill asks for through vars. -#}
{% macro incremental_window(event_time, lookback) -%}
  {{ return(adapter.dispatch('incremental_window', 'steward')(event_time, lookback)) }}
{%- endmacro %}

{% macro default__incremental_window(event_time, lookback) -%}
  {%- set column = steward.internal_column_reference(event_time, 'incremental_window event_time') -%}

  {#- lookback: an integer number of days, or '<n> <unit>' (minute/hour/day/week/month, plural allowed). -#}
  {%- if lookback is number and lookback is not boolean and lookback | int == lookback and lookback >= 0 -%}
    {%- set amount, unit = lookback | int, 'day' -%}
  {%- elif lookback is string and modules.re.match('^\\s*\\d+\\s*$', lookback) -%}
    {%- set amount, unit = lookback | trim | int, 'day' -%}
  {%- elif lookback is string and modules.re.match('^\\s*\\d+\\s*(minute|hour|day|week|month)s?\\s*$', lookback | lower) -%}
    {%- set match = modules.re.match('^\\s*(\\d+)\\s*(minute|hour|day|week|month)s?\\s*$', lookback | lower) -%}
    {%- set amount, unit = match.group(1) | int, match.group(2) -%}
  {%- else -%}
    {{ exceptions.raise_compiler_error(
        "steward.incremental_window: lookback must be a whole number of days (e.g. 3) or '<n> <unit>' with unit "
        ~ "minute, hour, day, week or month (e.g. '3 days'), got " ~ (lookback | tojson)) }}
  {%- endif -%}
  {%- if unit == 'week' -%}
    {%- set amount, unit = amount * 7, 'day' -%}
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

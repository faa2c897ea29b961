{#- One row per day/week/month/quarter/year overlapping [start_date, end_date). -#}
{% macro date_spine(start_date, end_date, grain='day') -%}
  {{ return(adapter.dispatch('date_spine', 'steward')(start_date, end_date, grain)) }}
{%- endmacro %}

{#- The bounds are dates known at compile time, so the number of periods is computed
    here and the rows come from a cross join of digit tables: no recursion, no
    generate_series, no query at compile time. Column: date_<grain>, type date, the
    first day of each period (weeks start on Monday). -#}
{% macro default__date_spine(start_date, end_date, grain='day') -%}
  {%- set grains = ['day', 'week', 'month', 'quarter', 'year'] -%}
  {%- if grain not in grains -%}
    {{ exceptions.raise_compiler_error(
        "steward.date_spine: grain must be one of " ~ grains | join(', ') ~ ", got " ~ (grain | tojson)) }}
  {%- endif -%}
  {%- set bounds = [] -%}
  {%- for name, value in [('start_date', start_date), ('end_date', end_date)] -%}
    {%- set text = value | string if value is not none else '' -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', text) -%}
      {{ exceptions.raise_compiler_error(
          "steward.date_spine: " ~ name ~ " must be a date as 'YYYY-MM-DD' (for today use "
          ~ "run_started_at.strftime('%Y-%m-%d')), got " ~ (text | tojson)) }}
    {%- endif -%}
    {%- do bounds.append(modules.datetime.datetime.strptime(text, '%Y-%m-%d').date()) -%}
  {%- endfor -%}
  {%- set start, end = bounds[0], bounds[1] -%}

  {#- First period: the one that contains start_date. -#}
  {%- if grain == 'day' -%}
    {%- set first = start -%}
  {%- elif grain == 'week' -%}
    {%- set first = start - modules.datetime.timedelta(days=start.weekday()) -%}
  {%- elif grain == 'month' -%}
    {%- set first = start.replace(day=1) -%}
  {%- elif grain == 'quarter' -%}
    {%- set first = start.replace(month=((start.month - 1) // 3) * 3 + 1, day=1) -%}
  {%- else -%}
    {%- set first = start.replace(month=1, day=1) -%}
  {%- endif -%}

  {#- Periods whose first day is before end_date. -#}
  {%- if grain in ['day', 'week'] -%}
    {%- set step = 1 if grain == 'day' else 7 -%}
    {%- set span = (end - first).days -%}
    {%- set unit = 'day' -%}
  {%- else -%}
    {%- set step = {'month': 1, 'quarter': 3, 'year': 12}[grain] -%}
    {%- set span = (end.year - first.year) * 12 + end.month - first.month + (1 if end.day > 1 else 0) -%}
    {%- set unit = 'month' -%}
  {%- endif -%}
  {%- set periods = ((span + step - 1) // step) if span > 0 else 0 -%}
  {%- set digits = ((periods - 1) | string | length) if periods > 1 else 1 -%}

  select cast({{ dbt.dateadd(unit, 'steward_spine.period_index * ' ~ step, "cast('" ~ first ~ "' as date)") }} as date)
      as date_{{ grain }}
  from (
      select
          {% for position in range(digits) -%}
          {{ ' + ' if not loop.first }}steward_digit_{{ position }}.digit * {{ 10 ** position }}
          {%- endfor %} as period_index
      from
          {% for position in range(digits) -%}
          {{ 'cross join ' if not loop.first }}(
              select 0 as digit
              {%- for digit in range(1, 10) %} union all select {{ digit }}{% endfor %}
          ) as steward_digit_{{ position }}
          {% endfor %}
  ) as steward_spine
  where steward_spine.period_index < {{ periods }}
{%- endmacro %}

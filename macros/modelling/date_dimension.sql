{#- A calendar: one row per day in [start_date, end_date) with its calendar, ISO and fiscal attributes. -#}
{% macro date_dimension(start_date, end_date, fiscal_year_start_month=none) -%}
  {{ return(adapter.dispatch('date_dimension', 'steward')(start_date, end_date, fiscal_year_start_month)) }}
{%- endmacro %}

{#- Names are English and computed from numbers, never from the session's locale; the
    fiscal year is named after the calendar year it ends in. -#}
{% macro default__date_dimension(start_date, end_date, fiscal_year_start_month=none) -%}
  {%- set fiscal_start = fiscal_year_start_month if fiscal_year_start_month is not none
      else steward.setting('fiscal_year_start_month') -%}
  {%- if fiscal_start is boolean or (fiscal_start | string) not in ((range(1, 13) | map('string')) | list) -%}
    {{ exceptions.raise_compiler_error(
        "steward.date_dimension: fiscal_year_start_month must be a month number 1-12, got " ~ (fiscal_start | tojson)) }}
  {%- endif -%}
  {%- set fiscal_start = fiscal_start | int -%}
  {%- set month_names = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                         'September', 'October', 'November', 'December'] -%}
  {%- set day_names = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] -%}
  {%- set int_type = dbt.type_int() -%}
  select
      date_day,
      cast(year_number * 10000 + month_number * 100 + day_of_month as {{ int_type }}) as date_key,
      year_number as year,
      case month_number
          {%- for month in range(1, 13) %}
          when {{ month }} then {{ (month - 1) // 3 + 1 }}
          {%- endfor %}
      end as quarter,
      month_number as month,
      case month_number
          {%- for name in month_names %}
          when {{ loop.index }} then '{{ name }}'
          {%- endfor %}
      end as month_name,
      day_of_month,
      day_of_week,
      case day_of_week
          {%- for name in day_names %}
          when {{ loop.index }} then '{{ name }}'
          {%- endfor %}
      end as day_of_week_name,
      day_of_week >= 6 as is_weekend,
      iso_week,
      iso_year,
      cast({{ dbt.dateadd('day', '1 - day_of_week', 'date_day') }} as date) as week_start,
      cast({{ dbt.date_trunc('month', 'cast(date_day as ' ~ dbt.type_timestamp() ~ ')') }} as date) as month_start,
      cast({{ dbt.date_trunc('quarter', 'cast(date_day as ' ~ dbt.type_timestamp() ~ ')') }} as date) as quarter_start,
      cast({{ dbt.date_trunc('year', 'cast(date_day as ' ~ dbt.type_timestamp() ~ ')') }} as date) as year_start,
      {% if fiscal_start == 1 -%}
      year_number
      {%- else -%}
      cast(year_number + case when month_number >= {{ fiscal_start }} then 1 else 0 end as {{ int_type }})
      {%- endif %} as fiscal_year,
      case month_number
          {%- for month in range(1, 13) %}
          when {{ month }} then {{ ((month - fiscal_start + 12) % 12) // 3 + 1 }}
          {%- endfor %}
      end as fiscal_quarter
  from (
      select
          date_day,
          cast(extract(year from date_day) as {{ int_type }}) as year_number,
          cast(extract(month from date_day) as {{ int_type }}) as month_number,
          cast(extract(day from date_day) as {{ int_type }}) as day_of_month,
          cast({{ steward.internal_date_part('isodow', 'date_day') }} as {{ int_type }}) as day_of_week,
          cast(extract(week from date_day) as {{ int_type }}) as iso_week,
          cast({{ steward.internal_date_part('isoyear', 'date_day') }} as {{ int_type }}) as iso_year
      from ({{ steward.date_spine(start_date, end_date, 'day') }}) as steward_days
  ) as steward_date_parts
{%- endmacro %}

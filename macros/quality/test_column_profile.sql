{#- Many column checks, evaluated in one scan of the model: `checks` maps column names to
    {check: argument}. One failing row per failing (column, check) (per group with group_by). -#}
{% test column_profile(model, checks, group_by=none) %}
  {{ config(meta={'steward_dimension': 'validity'}) }}
  {{ return(adapter.dispatch('test_column_profile', 'steward')(model, checks, group_by)) }}
{% endtest %}

{#- The plan, in two passes over the model. steward_counts (one scan) computes only what decides
    pass or fail: count(*), count(column) for not_null_proportion, count(distinct) for
    distinct_count_between and, per row-level check, the number of rows breaking it (the sum of a
    0/1 CASE, so each check's expression is evaluated once per row). steward_details (a second
    scan) computes the context of the row-level checks - min/max for min_value/max_value, the
    smallest breaking value for matches_pattern/accepted_values - and is gated by an uncorrelated
    EXISTS on steward_counts: when no row-level check failed anywhere it reads nothing
    (PostgreSQL: the scan is never executed; DuckDB: it stops before its aggregate gets a row).
    A cross join with the constant list of checks unpivots the counts into one row per (column,
    check). Failing rows: the group_by columns, steward_column, steward_check, steward_actual
    (text), steward_expected, failing_rows (rows that broke a row-level check; NULL for
    distinct_count_between) and row_count. NULLs never break min_value, max_value,
    matches_pattern or accepted_values; an empty model (or group) never fails
    not_null_proportion. -#}
{% macro default__test_column_profile(model, checks, group_by=none) %}
  {%- set plan = steward.internal_profile_plan(checks) -%}
  {%- set groups = steward.internal_core_columns(group_by, 'column_profile', 'group_by') -%}
  {%- set text = dbt.type_string() -%}
  {%- set bigint = dbt.type_bigint() -%}
  {%- set counts = ['count(*) as row_count'] -%}
  {%- set details = [] -%}
  {%- set broken = [] -%}
  {%- set actuals = [] -%}
  {%- set failing = [] -%}
  {%- set failed = [] -%}
  {%- for item in plan.checks -%}
    {%- set n = 'steward_n' ~ loop.index -%}
    {%- set a = 'steward_a' ~ loop.index -%}
    {%- set c = item.column -%}
    {%- if item.check == 'not_null_proportion' -%}
      {%- do counts.append('count(' ~ c ~ ') as ' ~ n) -%}
      {%- do actuals.append('cast(cast(round(cast(p.' ~ n ~ ' as ' ~ dbt.type_numeric() ~ ') / nullif(p.row_count, 0), 6) as '
          ~ dbt.type_numeric() ~ ') as ' ~ text ~ ')') -%}
      {%- do failing.append('p.row_count - p.' ~ n) -%}
      {%- do failed.append('p.row_count > 0 and p.' ~ n ~ ' < ' ~ item.argument ~ ' * p.row_count') -%}
    {%- elif item.check == 'distinct_count_between' -%}
      {%- do counts.append('count(distinct ' ~ c ~ ') as ' ~ n) -%}
      {%- do actuals.append('cast(p.' ~ n ~ ' as ' ~ text ~ ')') -%}
      {%- do failing.append('null') -%}
      {%- set outside = [] -%}
      {%- if item.argument[0] is not none -%}
        {%- do outside.append('p.' ~ n ~ ' < ' ~ item.argument[0]) -%}
      {%- endif -%}
      {%- if item.argument[1] is not none -%}
        {%- do outside.append('p.' ~ n ~ ' > ' ~ item.argument[1]) -%}
      {%- endif -%}
      {%- do failed.append(outside | join(' or ')) -%}
    {%- else -%}
      {#- row-level checks: the count of breaking rows here, an example value in steward_details -#}
      {%- if item.check == 'min_value' -%}
        {%- set condition = c ~ ' < ' ~ item.argument -%}
        {%- do details.append('min(' ~ c ~ ') as ' ~ a) -%}
      {%- elif item.check == 'max_value' -%}
        {%- set condition = c ~ ' > ' ~ item.argument -%}
        {%- do details.append('max(' ~ c ~ ') as ' ~ a) -%}
      {%- elif item.check == 'accepted_values' -%}
        {%- set condition = c ~ ' is not null and ' ~ c ~ ' not in (' ~ (item.argument | join(', ')) ~ ')' -%}
        {%- do details.append('min(case when ' ~ condition ~ ' then cast(' ~ c ~ ' as ' ~ text ~ ') end) as ' ~ a) -%}
      {%- else -%}
        {%- set condition = c ~ ' is not null and not '
            ~ steward.internal_core_regex_full_match('cast(' ~ c ~ ' as ' ~ text ~ ')', item.argument) -%}
        {%- do details.append('min(case when ' ~ condition ~ ' then cast(' ~ c ~ ' as ' ~ text ~ ') end) as ' ~ a) -%}
      {%- endif -%}
      {%- do counts.append('coalesce(sum(case when ' ~ condition ~ ' then 1 else 0 end), 0) as ' ~ n) -%}
      {%- do broken.append(n ~ ' > 0') -%}
      {%- do actuals.append('cast(d.' ~ a ~ ' as ' ~ text ~ ')') -%}
      {%- do failing.append('p.' ~ n) -%}
      {%- do failed.append('p.' ~ n ~ ' > 0') -%}
    {%- endif -%}
  {%- endfor %}
with steward_counts as (
    select
        {%- for column in groups %}
        {{ column }},
        {%- endfor %}
        {%- for count in counts %}
        {{ count }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    {%- if groups %}
    group by {{ groups | join(', ') }}
    {%- endif %}
),
{%- if details %}

steward_details as (
    select
        {%- for column in groups %}
        {{ column }},
        {%- endfor %}
        {%- for detail in details %}
        {{ detail }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where exists (select 1 from steward_counts where {{ broken | join(' or ') }})
    {%- if groups %}
    group by {{ groups | join(', ') }}
    {%- endif %}
),
{%- endif %}

steward_checks as (
    {%- for item in plan.checks %}
    select
        {{ loop.index }} as steward_index,
        {{ steward.internal_core_text(item.column) }} as steward_column,
        {{ steward.internal_core_text(item.check) }} as steward_check,
        {{ steward.internal_core_text(item.expected) }} as steward_expected
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
),

steward_results as (
    select
        {%- for column in groups %}
        p.{{ column }},
        {%- endfor %}
        c.steward_column,
        c.steward_check,
        case c.steward_index
            {%- for actual in actuals %}
            when {{ loop.index }} then {{ actual }}
            {%- endfor %}
        end as steward_actual,
        c.steward_expected,
        cast(case c.steward_index
            {%- for count in failing %}
            when {{ loop.index }} then {{ count }}
            {%- endfor %}
        end as {{ bigint }}) as failing_rows,
        p.row_count,
        case c.steward_index
            {%- for condition in failed %}
            when {{ loop.index }} then case when {{ condition }} then 1 else 0 end
            {%- endfor %}
        end as steward_failed
    from steward_counts as p
    {%- if details %}
    {%- if groups %}
    left join steward_details as d
        on {% for column in groups %}{{ steward.internal_core_null_safe_equal('p.' ~ column, 'd.' ~ column) }}{{ ' and ' if not loop.last }}{% endfor %}
    {%- else %}
    cross join steward_details as d
    {%- endif %}
    {%- endif %}
    cross join steward_checks as c
)

select
    {%- for column in groups %}
    {{ column }},
    {%- endfor %}
    steward_column,
    steward_check,
    steward_actual,
    steward_expected,
    failing_rows,
    row_count
from steward_results
where steward_failed = 1
{% endmacro %}

{#- Validates `checks` and returns {columns: [column reference, ...], checks: [{column,
    column_index, check, argument (SQL-ready), expected}, ...]} in the order given. Every error
    names the column and the check. -#}
{% macro internal_profile_plan(checks) -%}
  {%- set test_name = 'column_profile' -%}
  {%- set known = ['not_null_proportion', 'min_value', 'max_value', 'matches_pattern', 'distinct_count_between', 'accepted_values'] -%}
  {%- set presets = steward.internal_core_pattern_presets() -%}
  {%- if checks is not mapping or checks | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": checks must be a non-empty mapping of column names to {check: argument}, got "
        ~ (checks | tojson)) }}
  {%- endif -%}
  {%- set columns = [] -%}
  {%- set plan = [] -%}
  {%- for column_name, column_checks in checks.items() -%}
    {%- set column = steward.internal_column_reference(column_name, test_name ~ ' checks column') -%}
    {%- if column in columns -%}
      {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": checks names column " ~ (column | tojson) ~ " twice") }}
    {%- endif -%}
    {%- do columns.append(column) -%}
    {%- if column_checks is not mapping or column_checks | length == 0 -%}
      {{ exceptions.raise_compiler_error(
          "steward." ~ test_name ~ ": checks." ~ column ~ " must be a non-empty mapping of check names to arguments ("
          ~ (known | join(', ')) ~ "), got " ~ (column_checks | tojson)) }}
    {%- endif -%}
    {%- for check, argument in column_checks.items() -%}
      {%- set where = 'checks.' ~ column ~ '.' ~ check -%}
      {%- if check not in known -%}
        {{ exceptions.raise_compiler_error(
            "steward." ~ test_name ~ ": " ~ where ~ ": unknown check " ~ (check | tojson) ~ "; known checks: "
            ~ (known | join(', '))) }}
      {%- endif -%}
      {%- if check == 'not_null_proportion' -%}
        {%- set value = steward.internal_core_number(argument, test_name, where, minimum=0, maximum=1) -%}
        {%- set expected = '>= ' ~ value -%}
      {%- elif check in ('min_value', 'max_value') -%}
        {%- set value = steward.internal_core_bound(argument, test_name, where) -%}
        {%- if value is none -%}
          {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": " ~ where ~ " must be a number or a string, got null") }}
        {%- endif -%}
        {%- set expected = ('>= ' if check == 'min_value' else '<= ') ~ argument -%}
      {%- elif check == 'matches_pattern' -%}
        {%- if argument is mapping -%}
          {%- set extra = argument.keys() | reject('in', ['pattern', 'preset']) | list -%}
          {%- if extra or argument | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                "steward." ~ test_name ~ ": " ~ where ~ " must be a regular expression, {pattern: regex} or {preset: name} ("
                ~ (presets.keys() | sort | join(', ')) ~ "), got " ~ (argument | tojson)) }}
          {%- endif -%}
          {%- set preset = argument.get('preset') -%}
          {%- set pattern = argument.get('pattern') -%}
        {%- else -%}
          {%- set preset = none -%}
          {%- set pattern = argument -%}
        {%- endif -%}
        {%- if preset is not none -%}
          {%- if preset is not string or preset not in presets -%}
            {{ exceptions.raise_compiler_error(
                "steward." ~ test_name ~ ": " ~ where ~ ": unknown preset " ~ (preset | tojson) ~ "; known presets: "
                ~ (presets.keys() | sort | join(', '))) }}
          {%- endif -%}
          {%- set value = presets[preset] -%}
          {%- set expected = 'matches preset ' ~ preset -%}
        {%- else -%}
          {%- if pattern is not string or pattern | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "steward." ~ test_name ~ ": " ~ where ~ " must be a non-empty regular expression string, got "
                ~ (pattern | tojson)) }}
          {%- endif -%}
          {%- set value = pattern -%}
          {%- set expected = 'matches pattern ' ~ pattern -%}
        {%- endif -%}
      {%- elif check == 'distinct_count_between' -%}
        {%- if argument is string or argument is mapping or argument is not iterable or argument | length != 2 -%}
          {{ exceptions.raise_compiler_error(
              "steward." ~ test_name ~ ": " ~ where ~ " must be a list [min, max] of integers (either may be null), got "
              ~ (argument | tojson)) }}
        {%- endif -%}
        {%- set low = steward.internal_core_number(argument[0], test_name, where ~ ' min', required=false, minimum=0, integer=true) -%}
        {%- set high = steward.internal_core_number(argument[1], test_name, where ~ ' max', required=false, minimum=0, integer=true) -%}
        {%- if low is none and high is none -%}
          {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": " ~ where ~ " needs a min, a max or both, got [null, null]") }}
        {%- endif -%}
        {%- if low is not none and high is not none and low > high -%}
          {{ exceptions.raise_compiler_error(
              "steward." ~ test_name ~ ": " ~ where ~ " min (" ~ low ~ ") is greater than max (" ~ high ~ ")") }}
        {%- endif -%}
        {%- set value = [low, high] -%}
        {%- if low is not none and high is not none -%}
          {%- set expected = 'between ' ~ low ~ ' and ' ~ high ~ ' distinct values' -%}
        {%- elif low is not none -%}
          {%- set expected = '>= ' ~ low ~ ' distinct values' -%}
        {%- else -%}
          {%- set expected = '<= ' ~ high ~ ' distinct values' -%}
        {%- endif -%}
      {%- else -%}
        {%- if argument is string or argument is mapping or argument is not iterable or argument | length == 0 -%}
          {{ exceptions.raise_compiler_error(
              "steward." ~ test_name ~ ": " ~ where ~ " must be a non-empty list of numbers or strings, got "
              ~ (argument | tojson)) }}
        {%- endif -%}
        {%- set value = [] -%}
        {%- for item in argument -%}
          {%- set literal = steward.internal_core_bound(item, test_name, where ~ ' item') -%}
          {%- if literal is none -%}
            {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": " ~ where ~ " items must be numbers or strings, got null") }}
          {%- endif -%}
          {%- do value.append(literal) -%}
        {%- endfor -%}
        {%- set expected = 'one of ' ~ (argument | join(', ')) -%}
      {%- endif -%}
      {%- do plan.append({'column': column, 'column_index': columns | length - 1, 'check': check,
                          'argument': value, 'expected': expected}) -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return({'columns': columns, 'checks': plan}) }}
{%- endmacro %}

{#- Ranges [lower, upper) within a partition do not overlap, and follow the gaps rule. -#}
{% test mutually_exclusive_ranges(model, lower_bound_column, upper_bound_column, partition_by=none, gaps='allowed', zero_length_range_allowed=false) %}
  {{ config(meta={'steward_dimension': 'consistency'}) }}
  {{ return(adapter.dispatch('test_mutually_exclusive_ranges', 'steward')(model, lower_bound_column, upper_bound_column, partition_by, gaps, zero_length_range_allowed)) }}
{% endtest %}

{#- Ranges are sorted by (lower, upper) within their partition. An overlap is reported for each
    range that starts before the previous range ends (if two ranges overlap, so does the first
    with the next one in this order, so no overlap goes unnoticed). A gap is measured against the
    furthest end reached by all earlier ranges, so a range covered by a longer one does not
    invent a gap. -#}
{% macro default__test_mutually_exclusive_ranges(model, lower_bound_column, upper_bound_column, partition_by=none, gaps='allowed', zero_length_range_allowed=false) %}
  {%- set lower = steward.internal_column_reference(lower_bound_column, 'mutually_exclusive_ranges lower_bound_column') -%}
  {%- set upper = steward.internal_column_reference(upper_bound_column, 'mutually_exclusive_ranges upper_bound_column') -%}
  {%- set partitions = steward.internal_gov_column_list(partition_by, 'mutually_exclusive_ranges', 'partition_by') -%}
  {%- if gaps not in ['allowed', 'not_allowed', 'required'] -%}
    {{ exceptions.raise_compiler_error("steward.mutually_exclusive_ranges: gaps must be 'allowed', 'not_allowed' or 'required', got " ~ (gaps | tojson)) }}
  {%- endif -%}
  {%- if zero_length_range_allowed is not boolean -%}
    {{ exceptions.raise_compiler_error("steward.mutually_exclusive_ranges: zero_length_range_allowed must be true or false, got " ~ (zero_length_range_allowed | tojson)) }}
  {%- endif -%}
  {%- set aliases = [] -%}
  {%- for p in partitions -%}{%- do aliases.append(steward.internal_gov_column_alias(p)) -%}{%- endfor -%}
  {%- set window = ('partition by ' ~ aliases | join(', ') ~ ' ' if aliases else '') ~ 'order by steward_lower, steward_upper' %}
with steward_ranges as (
    select
        {% for p in partitions %}{{ p }} as {{ aliases[loop.index0] }},
        {% endfor %}{{ lower }} as steward_lower,
        {{ upper }} as steward_upper
    from {{ model }}
),

steward_ordered as (
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}steward_lower,
        steward_upper,
        lag(steward_lower) over ({{ window }}) as steward_previous_lower,
        lag(steward_upper) over ({{ window }}) as steward_previous_upper,
        max(steward_upper) over ({{ window }} rows between unbounded preceding and 1 preceding) as steward_previous_max_upper
    from steward_ranges
    where steward_lower is not null and steward_upper is not null
),

steward_violations as (
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}{{ steward.internal_gov_text('null_bound') }} as steward_violation,
        steward_lower,
        steward_upper,
        steward_lower as steward_other_lower,
        steward_upper as steward_other_upper,
        {{ steward.internal_gov_text('both bounds not null') }} as steward_expected
    from steward_ranges
    where steward_lower is null or steward_upper is null
    union all
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}case when steward_lower = steward_upper then {{ steward.internal_gov_text('zero_length_range') }} else {{ steward.internal_gov_text('inverted_range') }} end,
        steward_lower,
        steward_upper,
        case when 1 = 0 then steward_lower end,
        case when 1 = 0 then steward_upper end,
        {{ steward.internal_gov_text('lower bound < upper bound' if not zero_length_range_allowed else 'lower bound <= upper bound') }}
    from steward_ordered
    where steward_lower {{ '>=' if not zero_length_range_allowed else '>' }} steward_upper
    union all
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}{{ steward.internal_gov_text('overlap') }},
        steward_lower,
        steward_upper,
        steward_previous_lower,
        steward_previous_upper,
        {{ steward.internal_gov_text('range starts at or after the previous range ends') }}
    from steward_ordered
    where steward_lower < steward_previous_upper
    {%- if gaps == 'not_allowed' %}
    union all
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}{{ steward.internal_gov_text('gap') }},
        steward_lower,
        steward_upper,
        steward_previous_lower,
        steward_previous_upper,
        {{ steward.internal_gov_text('range starts where the previous ranges end (gaps not allowed)') }}
    from steward_ordered
    where steward_lower > steward_previous_max_upper
    {%- elif gaps == 'required' %}
    union all
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}{{ steward.internal_gov_text('no_gap') }},
        steward_lower,
        steward_upper,
        steward_previous_lower,
        steward_previous_upper,
        {{ steward.internal_gov_text('a gap after the previous ranges (gaps required)') }}
    from steward_ordered
    where steward_lower = steward_previous_max_upper
    {%- endif %}
)

select * from steward_violations
{% endmacro %}

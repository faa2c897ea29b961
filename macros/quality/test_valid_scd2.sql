{#- A type-2 history is well formed: one current row per key, no overlapping, inverted or
    (with allow_gaps=false) gapped validity windows. -#}
{% test valid_scd2(model, unique_key, valid_from='valid_from', valid_to='valid_to', allow_gaps=true, current_valid_to=none) %}
  {{ config(meta={'steward_dimension': 'consistency'}) }}
  {{ return(adapter.dispatch('test_valid_scd2', 'steward')(model, unique_key, valid_from, valid_to, allow_gaps, current_valid_to)) }}
{% endtest %}

{#- A row is current when valid_to IS NULL or equals current_valid_to (a far-future literal such
    as '9999-12-31'). Versions of a key are ordered by valid_from; each is compared with the
    next one, which finds every overlap (if two windows overlap, so do the first and the one
    after it). A current row followed by a later version overlaps it (its window is open). -#}
{% macro default__test_valid_scd2(model, unique_key, valid_from='valid_from', valid_to='valid_to', allow_gaps=true, current_valid_to=none) %}
  {%- set keys = steward.internal_gov_column_list(unique_key, 'valid_scd2', 'unique_key', allow_empty=false) -%}
  {%- set from_col = steward.internal_column_reference(valid_from, 'valid_scd2 valid_from') -%}
  {%- set to_col = steward.internal_column_reference(valid_to, 'valid_scd2 valid_to') -%}
  {%- if allow_gaps is not boolean -%}
    {{ exceptions.raise_compiler_error("steward.valid_scd2: allow_gaps must be true or false, got " ~ (allow_gaps | tojson)) }}
  {%- endif -%}
  {%- if current_valid_to is not none and (current_valid_to is not string or not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9:.]+)?$', current_valid_to)) -%}
    {{ exceptions.raise_compiler_error("steward.valid_scd2: current_valid_to must be an ISO date or timestamp such as '9999-12-31', got " ~ (current_valid_to | tojson)) }}
  {%- endif -%}
  {%- set aliases = [] -%}
  {%- for k in keys -%}{%- do aliases.append(steward.internal_gov_column_alias(k)) -%}{%- endfor -%}
  {%- set is_current = 'steward_valid_to is null' ~ (" or steward_valid_to = cast('" ~ current_valid_to ~ "' as " ~ dbt.type_timestamp() ~ ")" if current_valid_to else '') -%}
  {%- set window = 'partition by ' ~ aliases | join(', ') ~ ' order by steward_valid_from, steward_valid_to' %}
with steward_versions as (
    select
        {% for k in keys %}{{ k }} as {{ aliases[loop.index0] }},
        {% endfor %}{{ from_col }} as steward_valid_from,
        {{ to_col }} as steward_valid_to
    from {{ model }}
),

steward_flagged as (
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}steward_valid_from,
        steward_valid_to,
        case when {{ is_current }} then 1 else 0 end as steward_is_current,
        lead(steward_valid_from) over ({{ window }}) as steward_next_valid_from,
        lead(steward_valid_to) over ({{ window }}) as steward_next_valid_to
    from steward_versions
),

steward_current_counts as (
    select
        {% for a in aliases %}{{ a }},
        {% endfor %}sum(steward_is_current) as steward_current_rows,
        min(case when steward_is_current = 1 then steward_valid_from end) as steward_first_current_from,
        max(case when steward_is_current = 1 then steward_valid_from end) as steward_last_current_from,
        max(case when 1 = 0 then steward_valid_to end) as steward_typed_null
    from steward_flagged
    group by {{ aliases | join(', ') }}
)

select
    {% for a in aliases %}{{ a }},
    {% endfor %}case when steward_current_rows = 0 then {{ steward.internal_gov_text('no_current_row') }} else {{ steward.internal_gov_text('multiple_current_rows') }} end as steward_violation,
    steward_first_current_from as steward_valid_from,
    steward_typed_null as steward_valid_to,
    steward_last_current_from as steward_other_valid_from,
    steward_typed_null as steward_other_valid_to,
    {{ steward.internal_gov_text('exactly one current row') }} as steward_expected,
    cast(steward_current_rows as {{ dbt.type_string() }}) as steward_actual
from steward_current_counts
where steward_current_rows <> 1
union all
select
    {% for a in aliases %}{{ a }},
    {% endfor %}{{ steward.internal_gov_text('inverted_window') }},
    steward_valid_from,
    steward_valid_to,
    case when 1 = 0 then steward_valid_from end,
    case when 1 = 0 then steward_valid_to end,
    {{ steward.internal_gov_text('valid_to after valid_from') }},
    {{ steward.internal_gov_text('valid_to <= valid_from') }}
from steward_flagged
where steward_is_current = 0 and steward_valid_to <= steward_valid_from
union all
select
    {% for a in aliases %}{{ a }},
    {% endfor %}{{ steward.internal_gov_text('overlap') }},
    steward_valid_from,
    steward_valid_to,
    steward_next_valid_from,
    steward_next_valid_to,
    {{ steward.internal_gov_text('next version starts at or after this one ends') }},
    {{ steward.internal_gov_text('next version starts before this one ends') }}
from steward_flagged
where steward_next_valid_from is not null and (steward_is_current = 1 or steward_next_valid_from < steward_valid_to)
{%- if not allow_gaps %}
union all
select
    {% for a in aliases %}{{ a }},
    {% endfor %}{{ steward.internal_gov_text('gap') }},
    steward_valid_from,
    steward_valid_to,
    steward_next_valid_from,
    steward_next_valid_to,
    {{ steward.internal_gov_text('next version starts where this one ends') }},
    {{ steward.internal_gov_text('next version starts after this one ends') }}
from steward_flagged
where steward_is_current = 0 and steward_next_valid_from > steward_valid_to
{%- endif %}
{% endmacro %}

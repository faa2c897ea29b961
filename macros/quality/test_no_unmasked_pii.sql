{#- No text column that is not tagged as PII (column meta pii: true) holds e-mail addresses,
    phone numbers, card numbers, IBANs or national ids. -#}
{% test no_unmasked_pii(model, patterns=none, columns=none) %}
  {{ config(meta={'steward_dimension': 'pii'}) }}
  {%- set patterns_relation = ref(steward.setting('pii_patterns_relation')) -%}
  {{ return(adapter.dispatch('test_no_unmasked_pii', 'steward')(model, patterns, columns, patterns_relation)) }}
{% endtest %}

{#- One failing row per (column, pattern) with the number of matching rows and a masked sample
    (the first two characters of the smallest matching value, then '***'); raw values never
    leave the warehouse. Card-number matches count only when the first match in the value passes
    the Luhn check, IBAN matches only when it passes the mod-97 check. -#}
{% macro default__test_no_unmasked_pii(model, patterns, columns, patterns_relation) %}
  {%- if patterns is string -%}{%- set patterns = [patterns] -%}{%- endif -%}
  {%- if patterns is not none and (patterns is mapping or patterns is not iterable or patterns | length == 0) -%}
    {{ exceptions.raise_compiler_error("steward.no_unmasked_pii: patterns must be a non-empty list of pattern names, got " ~ (patterns | tojson)) }}
  {%- endif -%}
  {%- for p in patterns or [] -%}
    {%- do steward.validate_identifier(p, 'no_unmasked_pii patterns') -%}
  {%- endfor -%}
  {%- set wanted = none -%}
  {%- if columns is not none -%}
    {%- set wanted = [] -%}
    {%- for c in steward.internal_gov_column_list(columns, 'no_unmasked_pii', 'columns', allow_empty=false) -%}
      {%- do steward.validate_identifier(c, 'no_unmasked_pii columns') -%}
      {%- do wanted.append(c | lower) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set scanned = [] -%}
  {%- if execute -%}
    {%- set node = steward.internal_gov_tested_node() -%}
    {%- set pii_columns = [] -%}
    {%- for name, column in ((node.columns if node is not none else {}) or {}).items() -%}
      {%- set column_meta = {} -%}
      {%- do column_meta.update(column.meta or {}) -%}
      {%- do column_meta.update((column.config or {}).get('meta') or {}) -%}
      {%- if column_meta.get('pii') in [true, 'true', 'True', 'yes'] -%}
        {%- do pii_columns.append(name | lower) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- set relation = steward.internal_gov_tested_relation(model, 'no_unmasked_pii') -%}
    {%- set found = adapter.get_columns_in_relation(relation) if relation is not none else [] -%}
    {%- if not found -%}
      {{ exceptions.raise_compiler_error("steward.no_unmasked_pii: could not read the columns of " ~ relation ~ " (does it exist?)") }}
    {%- endif -%}
    {%- set names = found | map(attribute='name') | map('lower') | list -%}
    {%- for c in wanted or [] if c not in names -%}
      {{ exceptions.raise_compiler_error("steward.no_unmasked_pii: columns names " ~ c ~ ", which " ~ relation ~ " does not have") }}
    {%- endfor -%}
    {%- for c in found -%}
      {%- set lowered = c.name | lower -%}
      {%- if lowered not in pii_columns and ((wanted is none and steward.internal_is_text_type(c.data_type)) or (wanted is not none and lowered in wanted)) -%}
        {%- do scanned.append(c.name) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set string_type = dbt.type_string() -%}
  {%- set first_match = steward.internal_gov_regex_extract('steward_values.steward_value', 'steward_patterns.steward_regex') %}
with steward_patterns as (
    select
        name as steward_pattern,
        regex as steward_regex,
        coalesce(cast(needs_luhn as boolean), false) as steward_needs_luhn,
        coalesce(cast(needs_iban_check as boolean), false) as steward_needs_iban_check
    from {{ patterns_relation }}
    {%- if patterns %}
    where name in ({% for p in patterns %}'{{ p }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif %}
),

steward_values as (
    {%- for name in scanned %}
    select
        {{ steward.internal_gov_text(name) }} as steward_column,
        cast({{ adapter.quote(name) }} as {{ string_type }}) as steward_value
    from {{ model }}
    where {{ adapter.quote(name) }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select
        cast(null as {{ string_type }}) as steward_column,
        cast(null as {{ string_type }}) as steward_value
    where 1 = 0
    {%- endfor %}
),

steward_matches as (
    select
        steward_values.steward_column,
        steward_patterns.steward_pattern,
        steward_patterns.steward_needs_luhn,
        steward_patterns.steward_needs_iban_check,
        steward_values.steward_value,
        {{ steward.internal_gov_regex_remove(first_match, '[^0-9]') }} as steward_digits,
        upper({{ steward.internal_gov_regex_remove(first_match, '[^A-Za-z0-9]') }}) as steward_compact
    from steward_values
    inner join steward_patterns
        on {{ steward.internal_gov_regex_matches('steward_values.steward_value', 'steward_patterns.steward_regex') }}
),

steward_confirmed as (
    select
        steward_column,
        steward_pattern,
        steward_value
    from steward_matches
    where
        (not steward_needs_luhn or {{ steward.internal_gov_luhn_sql('steward_digits') }})
        and (not steward_needs_iban_check or {{ steward.internal_gov_iban_sql('steward_compact') }})
)

select
    steward_column,
    steward_pattern,
    count(*) as steward_matching_rows,
    {{ dbt.concat(['substring(min(steward_value), 1, 2)', "'***'"]) }} as steward_masked_sample,
    {{ dbt.concat(["'no unmasked '", 'steward_pattern', "' in a column not tagged pii'"]) }} as steward_expected
from steward_confirmed
group by steward_column, steward_pattern
{% endmacro %}

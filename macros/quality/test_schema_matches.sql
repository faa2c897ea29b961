{#- The model has exactly the given columns and types (extra columns allowed on request). -#}
{% test schema_matches(model, columns, allow_extra_columns=false) %}
  {{ config(meta={'steward_dimension': 'schema'}) }}
  {{ return(adapter.dispatch('test_schema_matches', 'steward')(model, columns, allow_extra_columns)) }}
{% endtest %}

{#- The comparison happens at compile time (adapter.get_columns_in_relation); the failing rows
    are rendered as a select of literals, and as a select that returns nothing when all match.
    Column names compare case-insensitively, types after steward's type normalisation. -#}
{% macro default__test_schema_matches(model, columns, allow_extra_columns=false) %}
  {%- if columns is not mapping or columns | length == 0 -%}
    {{ exceptions.raise_compiler_error("steward.schema_matches: columns must be a non-empty mapping of column name to data type, e.g. {order_id: integer, amount: numeric}, got " ~ (columns | tojson)) }}
  {%- endif -%}
  {%- if allow_extra_columns is not boolean -%}
    {{ exceptions.raise_compiler_error("steward.schema_matches: allow_extra_columns must be true or false, got " ~ (allow_extra_columns | tojson)) }}
  {%- endif -%}
  {%- set expected = {} -%}
  {%- for name, data_type in columns.items() -%}
    {%- do steward.validate_identifier(name, 'schema_matches columns') -%}
    {%- if data_type is not string or data_type | trim | length == 0 -%}
      {{ exceptions.raise_compiler_error("steward.schema_matches: the type of column " ~ name ~ " must be a type name such as 'integer', got " ~ (data_type | tojson)) }}
    {%- endif -%}
    {%- do expected.update({name | lower: data_type}) -%}
  {%- endfor -%}
  {%- set failures = [] -%}
  {%- if execute -%}
    {%- set relation = steward.internal_gov_tested_relation(model, 'schema_matches') -%}
    {%- set actual = {} -%}
    {%- for c in (adapter.get_columns_in_relation(relation) if relation is not none else []) -%}
      {%- do actual.update({c.name | lower: c.data_type}) -%}
    {%- endfor -%}
    {%- if not actual -%}
      {{ exceptions.raise_compiler_error("steward.schema_matches: could not read the columns of " ~ relation ~ " (does it exist?)") }}
    {%- endif -%}
    {%- for name, data_type in expected.items() -%}
      {%- if name not in actual -%}
        {%- do failures.append([name, 'missing', data_type, none]) -%}
      {%- elif steward.internal_gov_normalise_type(data_type) != steward.internal_gov_normalise_type(actual[name]) -%}
        {%- do failures.append([name, 'type_mismatch', data_type, actual[name]]) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if not allow_extra_columns -%}
      {%- for name, data_type in actual.items() if name not in expected -%}
        {%- do failures.append([name, 'extra', none, data_type]) -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endif -%}
  {%- set string_type = dbt.type_string() -%}
  {%- for f in failures %}
select
    {{ steward.internal_gov_text(f[0]) }} as steward_column,
    {{ steward.internal_gov_text(f[1]) }} as steward_issue,
    {{ steward.internal_gov_text(f[2]) if f[2] is not none else 'cast(null as ' ~ string_type ~ ')' }} as steward_expected_type,
    {{ steward.internal_gov_text(f[3]) if f[3] is not none else 'cast(null as ' ~ string_type ~ ')' }} as steward_actual_type,
    {{ steward.internal_gov_text({'missing': 'column present', 'type_mismatch': 'type ' ~ steward.internal_gov_normalise_type(f[2] or ''), 'extra': 'no columns beyond the expected ones'}[f[1]]) }} as steward_expected
{% if not loop.last %}union all{% endif %}
  {%- else %}
select
    cast(null as {{ string_type }}) as steward_column,
    cast(null as {{ string_type }}) as steward_issue,
    cast(null as {{ string_type }}) as steward_expected_type,
    cast(null as {{ string_type }}) as steward_actual_type,
    cast(null as {{ string_type }}) as steward_expected
where 1 = 0
  {%- endfor %}
{% endmacro %}

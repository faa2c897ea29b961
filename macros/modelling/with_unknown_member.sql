{#- A dimension plus its unknown member: the row facts point at when their key is NULL or missing. -#}
{% macro with_unknown_member(relation, key_column, unknown_key=none, attributes={}, columns=none) -%}
  {{ return(adapter.dispatch('with_unknown_member', 'steward')(relation, key_column, unknown_key, attributes, columns)) }}
{%- endmacro %}

{#- The extra row: key = unknown_key, text columns 'unknown', others NULL, each cast to
    the column's type so the union keeps the dimension's types; `attributes` overrides
    any non-key column with a SQL expression. -#}
{% macro default__with_unknown_member(relation, key_column, unknown_key=none, attributes={}, columns=none) -%}
  {%- if relation is string -%}
    {%- do steward.validate_identifier(relation, 'with_unknown_member relation (CTE name)') -%}
  {%- endif -%}
  {%- set key_column = steward.validate_identifier(key_column, 'with_unknown_member key_column') -%}
  {%- set key_literal = steward.internal_sql_literal(
      unknown_key if unknown_key is not none else steward.setting('unknown_member_key'), 'unknown_key') -%}
  {%- if attributes is none -%}
    {%- set attributes = {} -%}
  {%- endif -%}
  {%- if attributes is not mapping -%}
    {{ exceptions.raise_compiler_error(
        "steward.with_unknown_member: attributes must map column names to SQL values, got " ~ (attributes | tojson)) }}
  {%- endif -%}

  {%- set found = steward.internal_relation_columns(relation, columns, true, 'with_unknown_member') -%}
  {%- if not execute and not found -%}
    {{ return('select 1 as steward_unknown_member_parse_placeholder') }}
  {%- endif -%}
  {%- if not found %}
    {#- The relation has no readable columns (it does not exist yet): SQL that fails if run. -#}
    select * from {{ relation }} where steward_unknown_member_could_not_read_columns_of_relation is not null
  {%- else -%}
    {%- set by_name = {} -%}
    {%- for column in found -%}
      {%- do by_name.update({column.name.strip('"`') | lower: column}) -%}
    {%- endfor -%}
    {%- if key_column | lower not in by_name -%}
      {{ exceptions.raise_compiler_error(
          "steward.with_unknown_member: key_column '" ~ key_column ~ "' is not a column of " ~ relation
          ~ "; columns: " ~ (by_name.keys() | sort | join(', '))) }}
    {%- endif -%}
    {%- for name in attributes -%}
      {%- do steward.validate_identifier(name, 'with_unknown_member attributes key') -%}
      {%- if name | lower not in by_name or name | lower == key_column | lower -%}
        {{ exceptions.raise_compiler_error(
            "steward.with_unknown_member: attributes key '" ~ name ~ "' must be a non-key column of " ~ relation
            ~ "; columns: " ~ (by_name.keys() | sort | join(', '))) }}
      {%- endif -%}
    {%- endfor -%}
    {%- set overrides = {} -%}
    {%- for name, value in attributes.items() -%}
      {%- do overrides.update({name | lower: value}) -%}
    {%- endfor -%}
    {%- set unknown_values = [] -%}
    {%- for column in found -%}
      {%- set plain = column.name.strip('"`') | lower -%}
      {%- if plain == key_column | lower -%}
        {%- set value = key_literal -%}
      {%- elif plain in overrides -%}
        {%- set value = overrides[plain] -%}
      {%- elif column.is_text -%}
        {%- set value = "'unknown'" -%}
      {%- else -%}
        {%- set value = 'null' -%}
      {%- endif -%}
      {%- set data_type = dbt.type_string() if column.is_text else column.data_type -%}
      {%- do unknown_values.append('cast(' ~ value ~ ' as ' ~ data_type ~ ') as ' ~ column.name) -%}
    {%- endfor %}
    select {{ found | map(attribute='name') | join(', ') }}
    from {{ relation }}
    union all
    select
        {{ unknown_values | join(',\n        ') }}
  {%- endif -%}
{%- endmacro %}

{#- The columns of `relation` (a Relation, or the name of a CTE with `columns` given) as a
    list of {name, data_type, is_text}; `name` is ready for SQL. `columns` is a list of
    names, or a mapping of name to data type when types are needed (need_types). Returns
    [] when a Relation has no readable columns (it does not exist yet, e.g. while
    sqlfluff templates a model against an empty warehouse); callers render SQL that
    then fails loudly at run time. -#}
{% macro internal_relation_columns(relation, columns, need_types, caller_name) -%}
  {%- set result = [] -%}
  {%- if columns is not none -%}
    {%- if need_types and columns is not mapping -%}
      {{ exceptions.raise_compiler_error(
          "steward." ~ caller_name ~ ": columns must be a mapping of column name to data type, e.g. "
          ~ "{'customer_id': 'integer', 'customer_name': 'text'}, got " ~ (columns | tojson)) }}
    {%- endif -%}
    {%- if columns is string or columns is not iterable or columns | length == 0 -%}
      {{ exceptions.raise_compiler_error(
          "steward." ~ caller_name ~ ": columns must be a non-empty list of column names, got " ~ (columns | tojson)) }}
    {%- endif -%}
    {%- for name in columns -%}
      {%- set data_type = columns[name] if columns is mapping else none -%}
      {%- do result.append({
          'name': steward.validate_identifier(name, caller_name ~ ' column'),
          'data_type': data_type,
          'is_text': data_type is not none and steward.internal_is_text_type(data_type)}) -%}
    {%- endfor -%}
  {%- elif relation is string -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ caller_name ~ ": '" ~ relation ~ "' is a CTE name, so its columns cannot be read from the "
        ~ "warehouse; pass them as columns=" ~ ("{'name': 'data type', ...}" if need_types else "['col_a', 'col_b', ...]")) }}
  {%- elif relation.is_cte -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ caller_name ~ ": " ~ relation ~ " is ephemeral, so its columns cannot be read from the "
        ~ "warehouse; pass them as columns=...") }}
  {%- elif execute -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
      {%- do result.append({
          'name': adapter.quote(column.name),
          'data_type': column.data_type,
          'is_text': steward.internal_is_text_type(column.data_type)}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(result) }}
{%- endmacro %}

{#- An md5 key over columns, identical on every adapter for the same values. -#}
{% macro surrogate_key(columns) -%}
  {{ return(adapter.dispatch('surrogate_key', 'steward')(columns)) }}
{%- endmacro %}

{#- Each value is written as `<length>:<text>` (NULL as `-`) and the parts joined by
    `|`, so the encoding is injective: NULL differs from '', ('a|', 'b') from ('a', '|b'),
    and a NULL never makes the key NULL. -#}
{% macro default__surrogate_key(columns) -%}
  {%- if columns is string -%}
    {%- set columns = [columns] -%}
  {%- endif -%}
  {%- if columns is mapping or columns is not iterable or columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward.surrogate_key: columns must be a non-empty list of column names, got " ~ (columns | tojson)) }}
  {%- endif -%}
  {%- set parts = [] -%}
  {%- for column in columns -%}
    {%- set reference = steward.internal_column_reference(column, 'surrogate_key column') -%}
    {%- set text = steward.surrogate_key_text(reference) -%}
    {%- do parts.append(
        "case when " ~ reference ~ " is null then '-' else "
        ~ dbt.concat(["cast(" ~ dbt.length(text) ~ " as " ~ dbt.type_string() ~ ")", "':'", text])
        ~ " end") -%}
    {%- if not loop.last -%}
      {%- do parts.append("'|'") -%}
    {%- endif -%}
  {%- endfor -%}
  cast({{ dbt.hash(dbt.concat(parts)) }} as {{ dbt.type_string() }})
{%- endmacro %}

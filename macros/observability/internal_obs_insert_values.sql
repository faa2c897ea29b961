{#- One INSERT of rows of raw values into an audit table, committed. Values are strings, numbers or
    none, timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' strings (UTC). Where the adapter parses JSON
    (internal_obs_json_rows_sql: PostgreSQL, DuckDB) the rows travel as ONE JSON literal, serialised by
    dbt's tojson in one native call, and are cast to the columns' types in SQL: no Jinja per value.
    Elsewhere each value is written as a literal of its column's type (internal_obs_values_sql). -#}
{% macro internal_obs_insert_values(table_name, rows, relation=none) -%}
  {%- if not rows -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set relation = relation or steward.internal_obs_audit_relation(table_name) -%}
  {%- set columns = steward.internal_obs_audit_columns(table_name) -%}
  {%- set names = columns | map(attribute=0) | join(', ') -%}
  {%- set json_array = tojson(rows) -%}
  {%- if json_array is none -%}
    {{ exceptions.raise_compiler_error("steward.record_run: the rows of " ~ table_name ~ " are not JSON-serialisable") }}
  {%- endif -%}
  {%- set source = steward.internal_obs_json_rows_sql(json_array) -%}
  {%- if source -%}
    {%- set typed = [] -%}
    {%- for name, data_type in columns -%}
      {%- do typed.append('cast(r ->> ' ~ loop.index0 ~ ' as ' ~ data_type ~ ')') -%}
    {%- endfor -%}
    {%- set sql = 'insert into ' ~ relation ~ ' (' ~ names ~ ')\nselect ' ~ (typed | join(', ')) ~ '\nfrom ' ~ source -%}
  {%- else -%}
    {%- set text_type, stamp_type = dbt.type_string(), dbt.type_timestamp() -%}
    {%- set kinds = [] -%}
    {%- for name, data_type in columns -%}
      {%- do kinds.append('text' if data_type == text_type else ('stamp' if data_type == stamp_type else 'number')) -%}
    {%- endfor -%}
    {%- set sql = 'insert into ' ~ relation ~ ' (' ~ names ~ ') values\n' ~ steward.internal_obs_values_sql(rows, kinds) -%}
  {%- endif -%}
  {%- do steward.internal_obs_execute(sql) -%}
{%- endmacro %}

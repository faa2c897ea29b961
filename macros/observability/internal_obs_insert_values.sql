{#- One INSERT ... VALUES of rows of raw values into an audit table, committed; each value is
    written as a literal of its column's type (internal_obs_values_sql). -#}
{% macro internal_obs_insert_values(table_name, rows) -%}
  {%- if not rows -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set relation = steward.internal_obs_audit_relation(table_name) -%}
  {%- set columns = steward.internal_obs_audit_columns(table_name) -%}
  {%- set text_type, stamp_type = dbt.type_string(), dbt.type_timestamp() -%}
  {%- set kinds = [] -%}
  {%- for name, data_type in columns -%}
    {%- do kinds.append('text' if data_type == text_type else ('stamp' if data_type == stamp_type else 'number')) -%}
  {%- endfor -%}
  {%- set sql -%}
    insert into {{ relation }} ({{ columns | map(attribute=0) | join(', ') }}) values
    {{ steward.internal_obs_values_sql(rows, kinds) }}
  {%- endset -%}
  {%- do steward.internal_obs_execute(sql) -%}
{%- endmacro %}

{#- A query with the audit table's columns and no rows: what its model builds. -#}
{% macro internal_obs_audit_shell(table_name) -%}
select
  {%- for name, data_type in steward.internal_obs_audit_columns(table_name) %}
    cast(null as {{ data_type }}) as {{ name }}{% if not loop.last %},{% endif %}
  {%- endfor %}
where 1 = 0
{%- endmacro %}

{#- Runs one statement of the run-end hook in its own committed transaction. dbt runs on-run-end
    hooks outside a transaction and run_query does not open one, so on PostgreSQL the write would
    otherwise sit in the driver's implicit transaction and be lost when the connection closes. -#}
{% macro internal_obs_execute(sql) -%}
  {%- call statement('steward_record_run', fetch_result=false, auto_begin=true) -%}
    {{ sql }}
  {%- endcall -%}
  {%- do adapter.commit() -%}
{%- endmacro %}

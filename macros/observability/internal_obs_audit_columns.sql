{#- The columns of steward's audit tables, in one place: the models that create them and the
    run-end hook that creates them when a run did not build them both read it. -#}
{% macro internal_obs_audit_columns(table_name) -%}
  {%- set text = dbt.type_string() -%}
  {%- set stamp = dbt.type_timestamp() -%}
  {%- set whole = dbt.type_bigint() -%}
  {%- set real = dbt.type_float() -%}
  {%- set tables = {
      'steward_invocations': [
          ('invocation_id', text), ('command', text), ('project_name', text), ('target_name', text),
          ('tier', text), ('adapter_type', text), ('user_name', text), ('git_branch', text), ('git_sha', text),
          ('deploy_id', text), ('selection', text), ('dbt_version', text), ('started_at', stamp),
          ('finished_at', stamp), ('status', text), ('nodes', whole), ('errors', whole),
          ('test_failures', whole), ('warnings', whole), ('skipped', whole)],
      'steward_node_results': [
          ('invocation_id', text), ('unique_id', text), ('resource_type', text), ('node_name', text),
          ('package_name', text), ('model_unique_id', text), ('model_name', text), ('materialization', text),
          ('status', text), ('started_at', stamp), ('completed_at', stamp), ('execution_seconds', real),
          ('rows_affected', whole), ('failures', whole), ('message', text), ('quality_dimension', text),
          ('recorded_at', stamp)],
      'steward_metrics': [
          ('invocation_id', text), ('measured_at', stamp), ('model_unique_id', text), ('model_name', text),
          ('metric_name', text), ('metric_value', real)],
  } -%}
  {%- if table_name not in tables -%}
    {{ exceptions.raise_compiler_error("steward: no audit table named " ~ table_name) }}
  {%- endif -%}
  {{ return(tables[table_name]) }}
{%- endmacro %}

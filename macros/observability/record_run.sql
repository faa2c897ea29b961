{#- On-run-end capture: one row per invocation, one per node result and the row counts of the
    relations the run built, each table written by ONE set-based insert. Does nothing unless the
    record_runs setting is on. -#}
{% macro record_run(results) -%}
  {{ return(adapter.dispatch('record_run', 'steward')(results)) }}
{%- endmacro %}

{% macro default__record_run(results) -%}
  {%- if not execute or not steward.setting('record_runs') -%}
    {{ return('') }}
  {%- endif -%}
  {#- Rows hold raw values; internal_obs_insert_values writes each as a literal of its column's
      type in one pass (a macro call per value made the hook cost seconds on 1,000 nodes). -#}
  {%- set recorded_at = modules.datetime.datetime.now(modules.pytz.utc) -%}

  {%- set counts = {'errors': 0, 'test_failures': 0, 'warnings': 0, 'skipped': 0} -%}
  {%- set node_rows = [] -%}
  {%- set measured = [] -%}
  {%- for result in results if result.node is defined and result.node is not none -%}
    {%- set node = result.node -%}
    {%- set status = result.status | string -%}
    {%- if status in ['error', 'runtime error'] -%}{%- do counts.update({'errors': counts.errors + 1}) -%}
    {%- elif status == 'fail' -%}{%- do counts.update({'test_failures': counts.test_failures + 1}) -%}
    {%- elif status == 'warn' -%}{%- do counts.update({'warnings': counts.warnings + 1}) -%}
    {%- elif status == 'skipped' -%}{%- do counts.update({'skipped': counts.skipped + 1}) -%}
    {%- endif -%}
    {%- set model_id = (node.attached_node if node.attached_node is defined else none) if node.resource_type == 'test' else node.unique_id -%}
    {%- set model_node = graph.nodes.get(model_id) if model_id else none -%}
    {%- set execute_timing = result.timing | selectattr('name', 'equalto', 'execute') | list -%}
    {%- set response = result.adapter_response or {} -%}
    {%- set rows_affected = response.get('rows_affected') if response is mapping else none -%}
    {%- set materialization = node.config.materialized if node.resource_type in ['model', 'seed', 'snapshot'] else none -%}
    {%- do node_rows.append([
        invocation_id,
        node.unique_id,
        node.resource_type,
        node.name,
        node.package_name,
        model_id,
        model_node.name if model_node else none,
        materialization,
        status,
        execute_timing[0].started_at if execute_timing else none,
        execute_timing[0].completed_at if execute_timing else none,
        (result.execution_time or 0) | float,
        rows_affected if rows_affected is number and rows_affected >= 0 else none,
        result.failures if result.failures is number else none,
        result.message,
        steward.internal_obs_quality_dimension(node) if node.resource_type == 'test' else none,
        recorded_at]) -%}
    {#- steward's own audit tables grow by design: their counts would only be noise. -#}
    {%- if status == 'success' and materialization not in [none, 'view', 'ephemeral'] and node.relation_name
          and 'steward_observability' not in (node.config.tags or []) -%}
      {%- do measured.append(node) -%}
    {%- endif -%}
  {%- endfor -%}

  {%- set context = {
      'deploy_id': env_var('STEWARD_DEPLOY_ID', ''), 'git_branch': env_var('STEWARD_GIT_BRANCH', ''),
      'git_sha': env_var('STEWARD_GIT_SHA', ''), 'user': env_var('STEWARD_USER', env_var('USER', env_var('USERNAME', '')))} -%}
  {%- set failed = counts.errors + counts.test_failures -%}
  {%- set invocation_row = [
      invocation_id,
      flags.WHICH,
      project_name,
      target.name,
      steward.target_tier(),
      adapter.type(),
      context.user,
      context.git_branch,
      context.git_sha,
      context.deploy_id,
      (invocation_args_dict.get('select') or []) | join(' '),
      dbt_version,
      run_started_at,
      recorded_at,
      'failed' if failed else 'success',
      node_rows | length, counts.errors, counts.test_failures, counts.warnings, counts.skipped] -%}

  {%- do steward.internal_obs_insert_values('steward_invocations', [invocation_row]) -%}
  {%- do steward.internal_obs_insert_values('steward_node_results', node_rows) -%}
  {%- if steward.setting('record_row_counts') and measured -%}
    {%- do steward.internal_obs_insert_row_counts(measured, steward.internal_obs_text(invocation_id),
                                                  steward.internal_obs_stamp(recorded_at)) -%}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

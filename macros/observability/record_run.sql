{#- On-run-end capture: one row per invocation, one per node result and the row counts of the
    relations the run built, each table written by ONE set-based insert. Does nothing unless the
    record_runs setting is on. -#}
{% macro record_run(results) -%}
  {{ return(adapter.dispatch('record_run', 'steward')(results)) }}
{%- endmacro %}

{% macro default__record_run(results) -%}
  {%- if not execute -%}
    {{ return('') }}
  {%- endif -%}
  {%- if not steward.setting('record_runs') -%}
    {{ return(steward.internal_package_notice()) }}
  {%- endif -%}
  {#- Rows hold raw values (timestamps as strings); internal_obs_insert_values sends each table's rows
      in one statement, as one JSON literal where the adapter parses JSON. Per node the loop only
      reads attributes: a macro call or a filter per value made the hook cost seconds on 1,000 nodes. -#}
  {%- set stamp_format = '%Y-%m-%d %H:%M:%S.%f' -%}
  {%- set recorded_at = modules.datetime.datetime.now(modules.pytz.utc).strftime(stamp_format) -%}
  {%- set builtin_dimensions = {'not_null': 'completeness', 'unique': 'uniqueness', 'accepted_values': 'validity',
                                'relationships': 'consistency'} -%}
  {%- set audit_tables = ['steward_invocations', 'steward_node_results', 'steward_metrics'] -%}

  {%- set counts = {'errors': 0, 'test_failures': 0, 'warnings': 0, 'skipped': 0} -%}
  {%- set node_rows = [] -%}
  {%- set measured = [] -%}
  {%- set built = [] -%}
  {%- for result in results if result.node is defined and result.node is not none -%}
    {%- set node = result.node -%}
    {%- set status = result.status | string -%}
    {%- set resource_type = node.resource_type | string -%}
    {%- if status in ['error', 'runtime error'] -%}{%- do counts.update({'errors': counts.errors + 1}) -%}
    {%- elif status == 'fail' -%}{%- do counts.update({'test_failures': counts.test_failures + 1}) -%}
    {%- elif status == 'warn' -%}{%- do counts.update({'warnings': counts.warnings + 1}) -%}
    {%- elif status == 'skipped' -%}{%- do counts.update({'skipped': counts.skipped + 1}) -%}
    {%- endif -%}
    {%- set is_test = resource_type == 'test' -%}
    {%- set model_id = (node.attached_node if node.attached_node is defined else none) if is_test else node.unique_id -%}
    {%- set model_node = graph.nodes.get(model_id) if model_id else none -%}
    {%- set execute_timing = result.timing | selectattr('name', 'equalto', 'execute') | list -%}
    {%- set started = execute_timing[0].started_at if execute_timing else none -%}
    {%- set completed = execute_timing[0].completed_at if execute_timing else none -%}
    {%- set response = result.adapter_response or {} -%}
    {%- set rows_affected = response.get('rows_affected') if response is mapping else none -%}
    {%- set materialization = node.config.materialized if resource_type in ['model', 'seed', 'snapshot'] else none -%}
    {%- set dimension = none -%}
    {%- if is_test -%}
      {#- The test's meta steward_dimension (steward's tests set it), else that of dbt's built-in test. -#}
      {%- set metadata = node.test_metadata if node.test_metadata is defined else none -%}
      {%- set test_name = (metadata.get('name') if metadata is mapping else metadata.name) if metadata else none -%}
      {%- set dimension = (node.config.meta or {}).get('steward_dimension') or builtin_dimensions.get(test_name) -%}
    {%- endif -%}
    {%- do node_rows.append([
        invocation_id,
        node.unique_id,
        resource_type,
        node.name,
        node.package_name,
        model_id,
        model_node.name if model_node else none,
        materialization,
        status,
        started.strftime(stamp_format) if started else none,
        completed.strftime(stamp_format) if completed else none,
        (result.execution_time or 0) | float,
        rows_affected if rows_affected is number and rows_affected >= 0 else none,
        result.failures if result.failures is number else none,
        (result.message | string).split() | join(' ') | truncate(1000, true, '', 0) if result.message else none,
        dimension,
        recorded_at]) -%}
    {%- if node.package_name == 'steward' and node.name in audit_tables and status == 'success' -%}
      {%- do built.append(node.name) -%}
    {%- endif -%}
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
      context.user or none,
      context.git_branch or none,
      context.git_sha or none,
      context.deploy_id or none,
      ((invocation_args_dict.get('select') or []) | join(' ') | truncate(1000, true, '', 0)) or none,
      dbt_version,
      run_started_at.strftime(stamp_format),
      recorded_at,
      'failed' if failed else 'success',
      node_rows | length, counts.errors, counts.test_failures, counts.warnings, counts.skipped] -%}

  {#- An audit table the run built is ready for the insert; one it did not is checked first. -#}
  {%- set relations = {} -%}
  {%- for table_name in audit_tables -%}
    {%- do relations.update({table_name: steward.internal_obs_audit_relation(table_name, ensure=table_name not in built)}) -%}
  {%- endfor -%}
  {%- do steward.internal_obs_insert_values('steward_invocations', [invocation_row], relations.steward_invocations) -%}
  {%- do steward.internal_obs_insert_values('steward_node_results', node_rows, relations.steward_node_results) -%}
  {#- A failed deploy's tables are rolled back (or, blue-green, never published): their counts never
      described the warehouse, and volume_anomaly must not learn from them. -#}
  {%- if steward.setting('record_row_counts') and measured and not (failed and context.deploy_id) -%}
    {%- do steward.internal_obs_insert_row_counts(measured, steward.internal_obs_text(invocation_id),
                                                  steward.internal_obs_stamp(recorded_at), relations.steward_metrics) -%}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}

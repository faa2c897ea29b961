{#- Retention for steward's audit tables, which the run-end hook only ever appends to: delete what
    was recorded before a cutoff, all tables in one transaction. Run it when you choose (e.g. a
    weekly `dbt run-operation`), not from the hook, which must stay free of scans. -#}
{% macro prune_audit(older_than) -%}
  {{ return(adapter.dispatch('prune_audit', 'steward')(older_than)) }}
{%- endmacro %}

{% macro default__prune_audit(older_than) -%}
  {%- set seconds = steward.duration_seconds(older_than, 'prune_audit older_than') -%}
  {%- if seconds < 86400 -%}
    {{ exceptions.raise_compiler_error("prune_audit older_than must be at least 1d (the scorecard and the "
                                       ~ "anomaly tests read recent runs), got " ~ (older_than | tojson)) }}
  {%- endif -%}
  {%- set cutoff = dbt.dateadd('second', -seconds, steward.run_timestamp()) -%}
  {#- Each table by the time its own rows were recorded: metrics can be recorded without an invocation row. -#}
  {%- set recorded = {'steward_invocations': 'started_at', 'steward_node_results': 'recorded_at',
                      'steward_metrics': 'measured_at'} -%}
  {%- set deleted = {} -%}
  {%- if 'model.steward.steward_invocations' not in graph.nodes -%}
    {#- Without the models, where the tables live (a project may give them their own schema) is unknown. -#}
    {{ exceptions.raise_compiler_error("prune_audit: steward's audit models are disabled in this invocation; run it "
                                       ~ "with recording on (STEWARD_RECORD_RUNS=true, or --vars "
                                       ~ "'{steward: {record_runs: true}}') so it finds the audit tables") }}
  {%- endif -%}
  {%- for table_name, column in recorded.items() -%}
    {%- set relation = steward.internal_obs_audit_relation(table_name, ensure=false) -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
      {%- set condition = column ~ ' < ' ~ cutoff -%}
      {%- set count = run_query('select count(*) from ' ~ relation ~ ' where ' ~ condition).rows[0][0] -%}
      {%- if count > 0 -%}
        {%- call statement('steward_prune_audit', fetch_result=false, auto_begin=true) -%}
          delete from {{ relation }} where {{ condition }}
        {%- endcall -%}
      {%- endif -%}
      {%- do deleted.update({table_name: count}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- do adapter.commit() -%}
  {%- if not deleted -%}
    {{ log("steward prune_audit: no audit table exists yet; nothing to delete", info=true) }}
  {%- endif -%}
  {%- for table_name, count in deleted.items() -%}
    {{ log("steward prune_audit: deleted " ~ count ~ " row(s) of " ~ table_name ~ " recorded more than "
           ~ older_than ~ " ago", info=true) }}
  {%- endfor -%}
  {{ return(deleted) }}
{%- endmacro %}

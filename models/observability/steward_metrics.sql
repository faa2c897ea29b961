{#- Appended to by steward.record_run at the end of each run. The model is the table's empty shell;
    the materialization creates the table when missing and adds new columns, never drops or empties
    it (--full-refresh included). -#}
{{ config(materialized='steward_audit_table', enabled=steward.setting('record_runs'),
          tags=['steward_observability']) }}
{{ steward.internal_obs_audit_shell('steward_metrics') }}

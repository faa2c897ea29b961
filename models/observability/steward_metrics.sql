{#- Appended to by steward.record_run at the end of each run; the model only creates the table,
    and full_refresh=false keeps a --full-refresh from erasing the history. -#}
{{ config(materialized='incremental', full_refresh=false, on_schema_change='append_new_columns',
          enabled=steward.setting('record_runs'), tags=['steward_observability']) }}
{{ steward.internal_obs_audit_shell('steward_metrics') }}

{#- materialized='steward_audit_table': the materialization of steward's three audit tables
    (steward_invocations, steward_node_results, steward_metrics), which only the run-end hook
    writes to. The model is the table's empty shell; this creates the table when it is missing and
    adds the columns the package's list gained since (internal_obs_audit_ddl), and otherwise does
    nothing: no temp table, no merge, one read of the table's columns. History is never dropped,
    emptied or rewritten, --full-refresh included (it is ignored here, deliberately). -#}
{% materialization steward_audit_table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- set statements = steward.internal_obs_audit_ddl(target_relation, model.name) -%}
  {%- if should_full_refresh() -%}
    {{ log("steward: " ~ this ~ " holds recorded history; --full-refresh leaves it as it is", info=true) }}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- if statements -%}
    {% call statement('main') -%}
      {{ statements | join(';\n') }}
    {%- endcall %}
  {%- else -%}
    {% call noop_statement('main', 'OK', 'OK', 0) -%}
      -- steward_audit_table: {{ this }} exists with every column; nothing to do
    {%- endcall %}
  {%- endif -%}
  {%- set grant_config = config.get('grants') -%}
  {%- if grant_config -%}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing, full_refresh_mode=false)) %}
  {%- endif -%}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

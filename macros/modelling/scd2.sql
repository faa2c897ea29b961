{#- materialized='scd2': a type-2 history that keeps every change. See modelling.yml (scd2) for the
    configs. First run and full refresh (change logs only) build the table from all events;
    later runs touch only keys with new events: one temp table of their recomputed history
    (from each key's first new event on), then a delete of versions that vanished, an update of
    windows that changed and an insert of new versions, so a run with nothing new writes nothing
    (and, with nothing staged, issues no merge). Stored row hashes are first checked against the
    tracked columns (steward.scd2_refresh_hashes). -#}
{% materialization scd2, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- set source_columns = get_columns_in_query(sql) -%}
  {%- set settings = steward.scd2_settings(source_columns) -%}
  {%- set full_refresh = should_full_refresh() -%}
  {%- if full_refresh and existing is not none and not settings.allow_full_refresh -%}
    {#- A state source holds only the present: rebuilding would throw the history away. -#}
    {{ log("steward scd2: " ~ this ~ " reads a state source; --full-refresh would erase its history, so it "
           ~ "runs incrementally (set allow_full_refresh: true to rebuild anyway)", info=true) }}
    {%- set full_refresh = false -%}
  {%- endif -%}
  {%- if existing is not none and existing.type != 'table' -%}
    {{ exceptions.raise_compiler_error("scd2 model " ~ this ~ ": " ~ this ~ " exists as a " ~ existing.type
                                       ~ "; drop it or run with --full-refresh") }}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if existing is none or full_refresh -%}
    {%- if existing is not none -%}
      {% do adapter.drop_relation(existing) %}
    {%- endif -%}
    {% call statement('main') -%}
      {{ get_create_table_as_sql(False, target_relation, steward.scd2_history_sql(settings, sql, none)) }}
    {%- endcall %}
  {%- else -%}
    {%- set settings = steward.scd2_apply_schema_change(settings, existing) -%}
    {%- do settings.update({'since': steward.scd2_watermark(settings, existing)}) -%}
    {%- set hashes = steward.scd2_refresh_hashes(settings, existing) -%}
    {%- set sample = run_query(hashes.check) -%}
    {%- if sample.rows | length > 0 and sample.rows[0][0] == 0 -%}
      {% do run_query(hashes.rehash) %}
    {%- endif -%}
    {%- set staging = make_temp_relation(target_relation, '__stw_scd2') -%}
    {%- set tuning = steward.scd2_tune_session() -%}
    {%- if tuning -%}{% do run_query(tuning) %}{%- endif -%}
    {% call statement('scd2_stage') -%}
      {{ get_create_table_as_sql(True, staging, steward.scd2_history_sql(settings, sql, existing)) }}
    {%- endcall %}
    {%- set staged_rows = run_query('select count(*) from ' ~ staging).rows[0][0] -%}
    {%- if staged_rows > 0 -%}
      {%- set analyze = steward.scd2_analyze_staging(staging) -%}
      {%- if analyze -%}{% do run_query(analyze) %}{%- endif -%}
      {% call statement('main') -%}
        {{ steward.scd2_merge_sql(settings, target_relation, staging) }}
      {%- endcall %}
    {%- else -%}
      {#- Nothing new: no statement touches the history. -#}
      {% call noop_statement('main', 'OK 0', 'OK', 0) -%}
        -- scd2: no new versions for {{ this }}
      {%- endcall %}
    {%- endif -%}
    {% do adapter.drop_relation(staging) %}
  {%- endif -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

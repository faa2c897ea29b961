{#- materialized='scd2' on Spark: the same history (steward.scd2_history_sql decides every version), written
    the way Spark's parquet tables allow. They take no DELETE or UPDATE, so a run that changes anything
    writes the table's next state into `<name>__stw_next` (CREATE TABLE LIKE keeps its format and
    partitioning), then swaps the two by renames and drops the old one: the history is never half
    written, and a run killed between the renames leaves both tables, nothing lost. A run with nothing
    new writes nothing. Delta or Iceberg tables (file_format) are written the same way. -#}
{% materialization scd2, adapter='spark' %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- do steward.spark__scd2_require_rewritable() -%}
  {%- set source_columns = get_columns_in_query(sql) -%}
  {%- set settings = steward.scd2_settings(source_columns) -%}
  {%- set full_refresh = should_full_refresh() -%}
  {%- if full_refresh and existing is not none and not settings.allow_full_refresh -%}
    {{ log("steward scd2: " ~ this ~ " reads a state source; --full-refresh would erase its history, so it "
           ~ "runs incrementally (set allow_full_refresh: true to rebuild anyway)", info=true) }}
    {%- set full_refresh = false -%}
  {%- endif -%}
  {%- if existing is not none and existing.type != 'table' -%}
    {{ exceptions.raise_compiler_error("scd2 model " ~ this ~ ": " ~ this ~ " exists as a " ~ existing.type
                                       ~ "; drop it or run with --full-refresh") }}
  {%- endif -%}

  {{ run_hooks(pre_hooks) }}

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
    {%- set m = settings.meta -%}
    {%- set columns = settings.payload + [m.scd_id, m.valid_from, m.valid_to, m.is_current, m.is_deleted,
                                           m.row_hash, m.loaded_at] -%}
    {%- set hashes = steward.scd2_refresh_hashes(settings, existing) -%}
    {%- set sample = run_query(hashes.check) -%}
    {%- if sample.rows | length > 0 and sample.rows[0][0] == 0 -%}
      {%- set fresh_hash = steward.scd2_hash(settings.tracked, 'tracked:' ~ (settings.tracked | join(','))) -%}
      {%- set rehashed -%}
        select {% for c in columns %}{{ fresh_hash if c == m.row_hash else c }} as {{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
        from {{ existing }}
      {%- endset -%}
      {% do steward.spark__scd2_swap_in(target_relation, columns, rehashed) %}
    {%- endif -%}
    {%- set staging = target_relation.incorporate(path={'identifier': target_relation.identifier ~ '__stw_scd2'}) -%}
    {% do adapter.drop_relation(staging) %}
    {#- A table, not a temporary view: it is read after the history changes. -#}
    {% call statement('scd2_stage') -%}
      create table {{ staging }} using parquet as {{ steward.scd2_history_sql(settings, sql, existing) }}
    {%- endcall %}
    {%- set staged_rows = run_query('select count(*) from ' ~ staging).rows[0][0] -%}
    {%- if staged_rows > 0 -%}
      {% do steward.spark__scd2_swap_in(target_relation, columns, steward.spark__scd2_next_state(settings, existing, staging, columns)) %}
      {% call noop_statement('main', 'OK ' ~ staged_rows, 'OK', staged_rows) -%}
        -- scd2: {{ staged_rows }} staged decisions applied to {{ this }}
      {%- endcall %}
    {%- else -%}
      {% call noop_statement('main', 'OK 0', 'OK', 0) -%}
        -- scd2: no new versions for {{ this }}
      {%- endcall %}
    {%- endif -%}
    {% do adapter.drop_relation(staging) %}
  {%- endif -%}

  {{ run_hooks(post_hooks) }}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- materialized='steward_graph_table': a table derived from dbt's graph alone (steward_lineage),
    rewritten only when that graph changed. The md5 of the model's compiled SQL (which lists the
    graph's edges in a fixed order) is stored in every row, as the column graph_hash; when the table
    exists and holds the same hash, nothing is written (one read of the table's columns and one of
    a stored hash). Otherwise, or with --full-refresh, the table is dropped and rebuilt in one
    transaction. With no edges there is no row to hold the hash, so it is rebuilt, empty, each run. -#}
{% materialization steward_graph_table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- set graph_hash = local_md5(sql) -%}
  {%- set stored = none -%}
  {%- if existing is not none and existing.type == 'table' and not should_full_refresh() -%}
    {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
    {%- if 'graph_hash' in present -%}
      {%- set rows = run_query('select graph_hash from ' ~ existing ~ ' limit 1').rows -%}
      {%- set stored = rows[0][0] if rows | length > 0 else none -%}
    {%- endif -%}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- if stored == graph_hash -%}
    {% call noop_statement('main', 'OK unchanged', 'OK', 0) -%}
      -- steward_graph_table: {{ this }} already holds graph {{ graph_hash }}; nothing to do
    {%- endcall %}
  {%- else -%}
    {%- if existing is not none -%}
      {% do adapter.drop_relation(existing) %}
    {%- endif -%}
    {% call statement('main') -%}
      {{ get_create_table_as_sql(false, target_relation,
             'select graph.*, ' ~ steward.internal_obs_text(graph_hash) ~ ' as graph_hash from (\n' ~ sql ~ '\n) as graph') }}
    {%- endcall %}
  {%- endif -%}
  {%- set grant_config = config.get('grants') -%}
  {%- if grant_config -%}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing, full_refresh_mode=True)) %}
  {%- endif -%}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

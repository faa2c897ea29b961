{#- materialized='steward_stable_view': a view replaced only when its SQL changed (used by
    steward_quality_scorecard, whose SQL changes only with the package, a setting or the project
    name). The md5 of the compiled SQL is kept as the view's comment ('steward sql md5 <hash>');
    when the view exists with the same comment nothing is written (one catalog read). Otherwise, or
    with --full-refresh, it is dropped and created again, then commented, in one transaction. -#}
{% materialization steward_stable_view, default %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- set marker = 'steward sql md5 ' ~ local_md5(sql) -%}
  {%- set unchanged = existing is not none and existing.type == 'view' and not should_full_refresh()
                      and steward.internal_obs_view_comment(existing) == marker -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- if unchanged -%}
    {% call noop_statement('main', 'OK unchanged', 'OK', 0) -%}
      -- steward_stable_view: {{ this }} already has this SQL ({{ marker }}); nothing to do
    {%- endcall %}
  {%- else -%}
    {%- if existing is not none -%}
      {% do adapter.drop_relation(existing) %}
    {%- endif -%}
    {% call statement('main') -%}
      {{ get_create_view_as_sql(target_relation, sql) }}
    {%- endcall %}
    {% call statement('steward_view_comment') -%}
      {{ steward.internal_obs_set_view_comment(target_relation, marker) }}
    {%- endcall %}
  {%- endif -%}
  {%- set grant_config = config.get('grants') -%}
  {%- if grant_config -%}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing, full_refresh_mode=True)) %}
  {%- endif -%}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

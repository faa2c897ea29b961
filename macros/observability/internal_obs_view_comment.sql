{#- The comment stored on the view `relation`, or none (no such view, no comment, or an adapter
    whose catalog steward does not read here: then steward_stable_view always replaces the view).
    Read inside the materialization's transaction (auto_begin), which it then commits. -#}
{% macro internal_obs_view_comment(relation) -%}
  {{ return(adapter.dispatch('internal_obs_view_comment', 'steward')(relation)) }}
{%- endmacro %}

{% macro default__internal_obs_view_comment(relation) -%}
  {{ return(none) }}
{%- endmacro %}

{% macro postgres__internal_obs_view_comment(relation) -%}
  {%- call statement('steward_view_comment', fetch_result=true, auto_begin=true) -%}
    {{ "select obj_description(c.oid, 'pg_class') from pg_catalog.pg_class as c "
      ~ "join pg_catalog.pg_namespace as n on n.oid = c.relnamespace "
      ~ "where n.nspname = " ~ steward.internal_obs_text(relation.schema) ~ " and c.relname = "
      ~ steward.internal_obs_text(relation.identifier) }}
  {%- endcall -%}
  {%- set rows = load_result('steward_view_comment').table.rows -%}
  {{ return(rows[0][0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro duckdb__internal_obs_view_comment(relation) -%}
  {%- call statement('steward_view_comment', fetch_result=true, auto_begin=true) -%}
    {{ "select comment from duckdb_views() where database_name = " ~ steward.internal_obs_text(relation.database)
      ~ " and schema_name = " ~ steward.internal_obs_text(relation.schema) ~ " and view_name = "
      ~ steward.internal_obs_text(relation.identifier) }}
  {%- endcall -%}
  {%- set rows = load_result('steward_view_comment').table.rows -%}
  {{ return(rows[0][0] if rows | length > 0 else none) }}
{%- endmacro %}

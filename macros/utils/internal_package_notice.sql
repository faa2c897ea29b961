{#- What installing steward added to a project's build, said once at the end of a plain dbt run (the
    run-end hook calls it while recording is off): each object with the setting that switches it off.
    Said until the project sets one of those switches itself, on or off: the var is read directly
    because the question is whether the project chose, which steward.setting's defaults would hide. -#}
{% macro internal_package_notice() -%}
  {%- set switches = ['column_catalog', 'schema_history', 'pii_patterns_seed', 'record_runs'] -%}
  {%- set chosen = var('steward', {}) -%}
  {%- if not execute or (chosen is mapping and (switches | select('in', chosen.keys()) | list)) -%}
    {{ return('') }}
  {%- endif -%}
  {#- Read from the graph, so an object an adapter cannot build (and disables) is not named. -#}
  {%- set objects = [
      ('model.steward.steward_column_catalog', 'view steward_column_catalog', 'column_catalog'),
      ('snapshot.steward.steward_schema_history', 'snapshot steward_schema_history', 'schema_history'),
      ('seed.steward.steward_pii_patterns', 'seed steward_pii_patterns', 'pii_patterns_seed')] -%}
  {%- set added = [] -%}
  {%- for unique_id, what, switch in objects if unique_id in graph.nodes -%}
    {%- do added.append(what ~ ' (' ~ switch ~ ': false)') -%}
  {%- endfor -%}
  {%- do log('steward: the package adds ' ~ ((added | join(', ') ~ ', and ') if added else '')
             ~ 'an on-run-end hook that records nothing while record_runs is off; switch one off under '
             ~ 'vars: {steward: {...}} in dbt_project.yml, or set it to true to keep it and hide this line',
             info=True) -%}
  {{ return('') }}
{%- endmacro %}

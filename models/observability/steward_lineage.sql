{#- One row per edge of the project's graph, from the manifest at the run: models, seeds,
    snapshots, sources and exposures (tests left out), so downstream impact is a recursive
    query in SQL (see steward_observability.yml). Edges are sorted, so the compiled SQL changes
    only when the graph does; the steward_graph_table materialization rewrites the table only then
    (it adds the column graph_hash). -#}
{{ config(materialized='steward_graph_table', enabled=steward.setting('record_runs'), tags=['steward_observability']) }}

{%- set edges = [] -%}
{%- if execute -%}
    {%- set known = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type in ['model', 'seed', 'snapshot'] -%}
        {%- do known.update({node.unique_id: node}) -%}
    {%- endfor -%}
    {%- for source in graph.sources.values() -%}
        {%- do known.update({source.unique_id: source}) -%}
    {%- endfor -%}
    {%- for child in (known.values() | list) + (graph.exposures.values() | list) -%}
        {%- for parent_id in (child.depends_on or {}).get('nodes', []) if parent_id in known -%}
            {%- set parent = known[parent_id] -%}
            {%- do edges.append([parent.unique_id, parent.resource_type, parent.name,
                                 child.unique_id, child.resource_type, child.name]) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}

{%- set text = dbt.type_string() %}
{%- set columns = ['parent_unique_id', 'parent_resource_type', 'parent_name',
                   'child_unique_id', 'child_resource_type', 'child_name'] %}
{#- The edges as one JSON literal where the adapter parses JSON (no Jinja per value), else VALUES. #}
{%- set json_source = steward.internal_obs_json_rows_sql(tojson(edges | sort)) if edges else '' %}
{%- if json_source %}
select
{%- for column in columns %}
    cast(r ->> {{ loop.index0 }} as {{ text }}) as {{ column }}{% if not loop.last %},{% endif %}
{%- endfor %}
from {{ json_source }}
{%- else %}
select
{%- for column in columns %}
    cast({{ column }} as {{ text }}) as {{ column }}{% if not loop.last %},{% endif %}
{%- endfor %}
from (
    values
    {%- if edges %}
    {{ steward.internal_obs_values_sql(edges | sort, ['text', 'text', 'text', 'text', 'text', 'text']) }}
    {%- else %}
    (null, null, null, null, null, null)
    {%- endif %}
) as edges ({{ columns | join(', ') }})
{%- if not edges %}
where 1 = 0
{%- endif %}
{%- endif %}

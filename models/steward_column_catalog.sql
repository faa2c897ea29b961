{#- The columns the warehouse holds for this project's models, seeds and snapshots right now;
    steward_schema_history snapshots it to keep which columns and types each had, and when. -#}
{#- Built where the warehouse has information_schema, unless the project switched it off (README, "What installing
    steward adds"); decided here, not in the .yml: a model's own config wins over its properties. -#}
{{ config(materialized='view',
          enabled=steward.internal_has_information_schema() and steward.setting('column_catalog')) }}

{%- set relation_names = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'seed', 'snapshot']
        and node.config.materialized != 'ephemeral'
        and node.name not in ['steward_column_catalog', 'steward_schema_history'] -%}
        {%- do relation_names.append((node.schema ~ '.' ~ (node.alias or node.name)) | lower) -%}
    {%- endfor -%}
{%- endif %}

select
    lower(table_schema) || '.' || lower(table_name) || '.' || lower(column_name) as column_id,
    lower(table_schema) || '.' || lower(table_name) as relation_name,
    table_schema,
    table_name,
    column_name,
    data_type,
    ordinal_position
from information_schema.columns
where
    lower(table_schema) || '.' || lower(table_name) in (
        {%- for name in relation_names %}
            '{{ name }}'{% if not loop.last %},{% endif %}
        {%- else %}
            ''
        {%- endfor %}
    )

{#- Where one of steward's audit tables lives: the package model's database, schema and alias
    (so a project's generate_schema_name applies). With `ensure` (the run did not build the model),
    the table is first made ready for the insert: created when missing, missing columns added
    (internal_obs_audit_ddl). -#}
{% macro internal_obs_audit_relation(table_name, ensure=true) -%}
  {%- set node = graph.nodes.get('model.steward.' ~ table_name) -%}
  {%- if node -%}
    {%- set relation = api.Relation.create(database=node.database, schema=node.schema,
                                           identifier=node.alias or node.name, type='table') -%}
  {%- else -%}
    {%- set relation = api.Relation.create(database=target.database, schema=target.schema, identifier=table_name,
                                           type='table') -%}
  {%- endif -%}
  {%- if ensure -%}
    {%- set statements = steward.internal_obs_audit_ddl(relation, table_name) -%}
    {%- if statements -%}
      {%- do adapter.create_schema(relation) -%}
    {%- endif -%}
    {%- for sql in statements -%}
      {%- do steward.internal_obs_execute(sql) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(relation) }}
{%- endmacro %}

{#- Where one of steward's audit tables lives: the package model's database, schema and alias
    (so a project's generate_schema_name applies), created empty when this run did not build it. -#}
{% macro internal_obs_audit_relation(table_name) -%}
  {%- set matches = graph.nodes.values()
      | selectattr('package_name', 'equalto', 'steward')
      | selectattr('name', 'equalto', table_name) | list -%}
  {%- if matches -%}
    {%- set node = matches[0] -%}
    {%- set relation = api.Relation.create(database=node.database, schema=node.schema,
                                           identifier=node.alias or node.name) -%}
  {%- else -%}
    {%- set relation = api.Relation.create(database=target.database, schema=target.schema, identifier=table_name) -%}
  {%- endif -%}
  {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
    {%- do adapter.create_schema(relation) -%}
    {%- do steward.internal_obs_execute(get_create_table_as_sql(false, relation, steward.internal_obs_audit_shell(table_name))) -%}
  {%- endif -%}
  {{ return(relation) }}
{%- endmacro %}

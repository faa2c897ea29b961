{#- The Relation a test checks: the `model` argument when it is one, else (dbt's `where`
    config turned it into a subquery) the relation of the node the test is attached to. -#}
{% macro internal_gov_tested_relation(model_argument, test_name) -%}
  {%- if model_argument is not string and model_argument.identifier is defined and model_argument.identifier -%}
    {{ return(model_argument) }}
  {%- endif -%}
  {%- set node = steward.internal_gov_tested_node() -%}
  {%- if node is none -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=(node.alias or node.name))) }}
{%- endmacro %}

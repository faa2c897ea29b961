{#- The node a generic test is attached to (a model, seed or snapshot), from the graph; none
    outside execution. `model` here is dbt's context variable (the test node), not the test's
    `model` argument, which the test macro's own parameter shadows. -#}
{% macro internal_gov_tested_node() -%}
  {%- if not execute -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set test_node = model -%}
  {%- set candidates = [] -%}
  {%- if test_node.attached_node -%}
    {%- do candidates.append(test_node.attached_node) -%}
  {%- endif -%}
  {%- for unique_id in test_node.depends_on.nodes -%}
    {%- do candidates.append(unique_id) -%}
  {%- endfor -%}
  {%- for unique_id in candidates -%}
    {%- set node = graph.nodes.get(unique_id) -%}
    {%- if node and node.resource_type in ['model', 'seed', 'snapshot'] -%}
      {{ return(node) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

{#- The tested node's meta (config meta merged over top-level meta), {} when unknown. -#}
{% macro internal_gov_tested_meta() -%}
  {%- set node = steward.internal_gov_tested_node() -%}
  {%- set meta = {} -%}
  {%- if node is not none -%}
    {%- do meta.update(node.meta or {}) -%}
    {%- do meta.update((node.config or {}).get('meta') or {}) -%}
  {%- endif -%}
  {{ return(meta) }}
{%- endmacro %}

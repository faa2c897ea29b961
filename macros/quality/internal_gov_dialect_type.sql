{#- A type name as the adapter's SQL means it, in the words internal_gov_normalise_type groups: on most
    adapters the name itself. -#}
{% macro internal_gov_dialect_type(name) -%}
  {{ return(adapter.dispatch('internal_gov_dialect_type', 'steward')(name)) }}
{%- endmacro %}

{% macro default__internal_gov_dialect_type(name) -%}
  {{ return(name) }}
{%- endmacro %}

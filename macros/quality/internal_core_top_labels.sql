{#- An aggregate: the first `limit` values of `label`, by `count` descending then `text`, joined with ', '. -#}
{% macro internal_core_top_labels(label, count, text, limit) -%}
  {{ return(adapter.dispatch('internal_core_top_labels', 'steward')(label, count, text, limit)) }}
{%- endmacro %}

{% macro default__internal_core_top_labels(label, count, text, limit) -%}
  {{ return(dbt.listagg(label, "', '", 'order by ' ~ count ~ ' desc, ' ~ text, limit)) }}
{%- endmacro %}

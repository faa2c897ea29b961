{#- The lower bound of incremental_window's grace window, as the adapter's incremental strategies need it. -#}
{% macro internal_window_floor(expression) -%}
  {{ return(adapter.dispatch('internal_window_floor', 'steward')(expression)) }}
{%- endmacro %}

{% macro default__internal_window_floor(expression) -%}
  {{ return(expression) }}
{%- endmacro %}

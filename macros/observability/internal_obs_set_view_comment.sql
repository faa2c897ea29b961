{#- The statement that sets the comment of the view `relation` (steward_stable_view keeps its SQL's md5 there). -#}
{% macro internal_obs_set_view_comment(relation, comment) -%}
  {{ return(adapter.dispatch('internal_obs_set_view_comment', 'steward')(relation, comment)) }}
{%- endmacro %}

{% macro default__internal_obs_set_view_comment(relation, comment) -%}
  {{ return(alter_relation_comment(relation, comment)) }}
{%- endmacro %}

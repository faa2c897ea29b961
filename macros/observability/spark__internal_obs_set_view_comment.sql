{#- Spark has no COMMENT ON for views; a view's comment is its 'comment' table property. -#}
{% macro spark__internal_obs_set_view_comment(relation, comment) -%}
  {{ return("alter view " ~ relation ~ " set tblproperties ('comment' = " ~ steward.internal_obs_text(comment) ~ ")") }}
{%- endmacro %}

{#- Spark: the 'Comment' line of DESCRIBE TABLE EXTENDED (no such line: no comment). -#}
{% macro spark__internal_obs_view_comment(relation) -%}
  {%- if load_cached_relation(relation) is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- call statement('steward_view_comment', fetch_result=true) -%}
    describe table extended {{ relation }}
  {%- endcall -%}
  {%- for row in load_result('steward_view_comment').table.rows if row[0] == 'Comment' -%}
    {{ return(row[1]) }}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

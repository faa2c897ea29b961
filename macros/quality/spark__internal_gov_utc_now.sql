{#- Spark: current_timestamp() is the session time zone's wall time; to_utc_timestamp turns it into UTC. -#}
{% macro spark__internal_gov_utc_now() -%}
  {{ return("to_utc_timestamp(current_timestamp(), current_timezone())") }}
{%- endmacro %}

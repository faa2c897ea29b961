{#- Spark's TIMESTAMP is a point in time shown in the session's time zone (timestamptz elsewhere), and
    TIMESTAMP_NTZ the wall-clock timestamp. -#}
{% macro spark__internal_gov_dialect_type(name) -%}
  {{ return({'timestamp': 'timestamptz', 'timestamp_ltz': 'timestamptz', 'timestamp_ntz': 'timestamp'}.get(name, name)) }}
{%- endmacro %}

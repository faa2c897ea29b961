{#- Spark's parquet tables are updated by insert_overwrite of whole partitions: the window starts at midnight,
    so a model partitioned by day (or finer) reads every row of each partition it replaces. -#}
{% macro spark__internal_window_floor(expression) -%}
  {{ return("date_trunc('day', " ~ expression ~ ")") }}
{%- endmacro %}

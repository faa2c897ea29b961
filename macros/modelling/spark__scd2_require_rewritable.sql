{#- Bad input for scd2 on Spark: it rewrites its table through CREATE TABLE LIKE and renames, which a table
    in a Hive text format or an external location (location_root) does not survive. -#}
{% macro spark__scd2_require_rewritable() -%}
  {%- set file_format = (config.get('file_format') or 'parquet') | lower -%}
  {%- if file_format not in ['parquet', 'orc', 'delta', 'iceberg'] -%}
    {{ exceptions.raise_compiler_error("scd2 model " ~ this ~ ": file_format '" ~ file_format ~ "' cannot hold an "
        ~ "scd2 history on Spark; set file_format to parquet (the default), orc, delta or iceberg") }}
  {%- endif -%}
  {%- if config.get('location_root') -%}
    {{ exceptions.raise_compiler_error("scd2 model " ~ this ~ ": an external table (location_root) cannot be "
        ~ "rewritten by renames on Spark; remove location_root so the history is a managed table") }}
  {%- endif -%}
{%- endmacro %}

{#- Spark's parquet tables take no DELETE: refuse with the reason rather than fail half-way. -#}
{% macro spark__prune_audit(older_than) -%}
  {{ exceptions.raise_compiler_error("steward.prune_audit: not available on spark, whose parquet tables take no "
      ~ "DELETE; rewrite the audit tables with INSERT OVERWRITE ... SELECT the rows to keep, or keep the history") }}
{%- endmacro %}

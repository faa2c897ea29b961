{#- Statistics for the staging table before the merge reads it. PostgreSQL does not analyze temp
    tables by itself and otherwise plans the merge for a handful of rows. -#}
{% macro scd2_analyze_staging(staging) -%}
  {{ return(adapter.dispatch('scd2_analyze_staging', 'steward')(staging)) }}
{%- endmacro %}

{% macro default__scd2_analyze_staging(staging) -%}
  {{ return('') }}
{%- endmacro %}

{% macro postgres__scd2_analyze_staging(staging) -%}
  {{ return('analyze ' ~ staging) }}
{%- endmacro %}

{#- Spark has no uuid type: the md5 stays its 32 hex characters. -#}
{% macro spark__scd2_hash_type() -%}
  {{ return('string') }}
{%- endmacro %}

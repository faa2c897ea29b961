{#- The SQL type of the hashes steward.scd2_hash stores (scd_id, row_hash). -#}
{% macro scd2_hash_type() -%}
  {{ return(adapter.dispatch('scd2_hash_type', 'steward')()) }}
{%- endmacro %}

{#- A uuid: the md5's 16 bytes instead of its 32 hex characters. -#}
{% macro default__scd2_hash_type() -%}
  {{ return('uuid') }}
{%- endmacro %}

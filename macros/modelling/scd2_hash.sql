{#- The hashes the scd2 materialization stores: scd_id (key and valid_from) and row_hash (the
    tracked columns). The same injective encoding as steward.surrogate_key, hashed with md5 and
    kept as a uuid: 16 fixed bytes instead of a 32-character string, which halves what the
    history stores, joins and writes per hash. `label` (for row_hash: the tracked column list) is
    hashed in front of the values, so a row_hash written under another list of tracked columns
    never equals one computed under this list. -#}
{% macro scd2_hash(columns, label=none) -%}
  {{ return(adapter.dispatch('scd2_hash', 'steward')(columns, label)) }}
{%- endmacro %}

{% macro default__scd2_hash(columns, label) -%}
  {%- set parts = [] -%}
  {%- if label is not none -%}
    {%- do parts.append("'" ~ (label | replace("'", "''")) ~ "|'") -%}
  {%- endif -%}
  {%- for column in columns -%}
    {%- set text = steward.surrogate_key_text(column) -%}
    {%- do parts.append(
        "case when " ~ column ~ " is null then '-' else "
        ~ dbt.concat(["cast(" ~ dbt.length(text) ~ " as " ~ dbt.type_string() ~ ")", "':'", text])
        ~ " end") -%}
    {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
  {%- endfor -%}
  cast({{ dbt.hash(dbt.concat(parts)) }} as {{ steward.scd2_hash_type() }})
{%- endmacro %}

{#- A column new to the model's select is handled as on_schema_change says, like dbt's incrementals:
    ignore (the history keeps its columns), append_new_columns (added and tracked from now on,
    NULL in older versions) or fail. -#}
{% macro scd2_apply_schema_change(settings, existing) -%}
  {{ return(adapter.dispatch('scd2_apply_schema_change', 'steward')(settings, existing)) }}
{%- endmacro %}

{% macro default__scd2_apply_schema_change(settings, existing) -%}
  {%- set mode = config.get('on_schema_change', 'ignore') -%}
  {%- if mode not in ['ignore', 'append_new_columns', 'fail'] -%}
    {{ exceptions.raise_compiler_error("scd2 model " ~ this ~ ": on_schema_change must be ignore, "
                                       ~ "append_new_columns or fail, got " ~ mode) }}
  {%- endif -%}
  {%- set target_columns = adapter.get_columns_in_relation(existing) -%}
  {%- set known = target_columns | map(attribute='name') | map('lower') | list -%}
  {%- set new_columns = settings.payload | reject('in', known) | list -%}
  {%- if not new_columns -%}{{ return(settings) }}{%- endif -%}
  {%- if mode == 'fail' -%}
    {{ exceptions.raise_compiler_error("scd2 model " ~ this ~ ": new column(s) " ~ (new_columns | join(', '))
                                       ~ " and on_schema_change is fail") }}
  {%- elif mode == 'append_new_columns' -%}
    {%- set source_columns = adapter.get_column_schema_from_query(get_empty_subquery_sql(sql)) -%}
    {%- set to_add = [] -%}
    {%- for column in source_columns if column.name | lower in new_columns -%}{%- do to_add.append(column) -%}{%- endfor -%}
    {% do alter_relation_add_remove_columns(existing, to_add, none) %}
    {{ return(settings) }}
  {%- else -%}
    {%- if settings.state_watermark and settings.loaded_at in new_columns -%}
      {{ log("steward scd2: " ~ this ~ " does not store its loaded_at column " ~ settings.loaded_at ~ " (on_schema_change "
             ~ "is ignore), so it has no watermark and compares the whole source", info=true) }}
    {%- endif -%}
    {%- set narrowed = {} -%}
    {%- do narrowed.update(settings) -%}
    {%- do narrowed.update({
        'payload': settings.payload | reject('in', new_columns) | list,
        'tracked': settings.tracked | reject('in', new_columns) | list,
        'state_watermark': settings.state_watermark and settings.loaded_at not in new_columns}) -%}
    {{ return(narrowed) }}
  {%- endif -%}
{%- endmacro %}

{#- Reads and checks an scd2 model's config once, so the materialization and the SQL builder
    share one validated description of the model. -#}
{% macro scd2_settings(source_columns) -%}
  {{ return(adapter.dispatch('scd2_settings', 'steward')(source_columns)) }}
{%- endmacro %}

{% macro default__scd2_settings(source_columns) -%}
  {%- set fail = exceptions.raise_compiler_error -%}
  {%- set columns = source_columns | map('lower') | list -%}

  {%- set unique_key = config.get('unique_key') -%}
  {%- if not unique_key -%}{{ fail("scd2 model " ~ this ~ ": config unique_key is required") }}{%- endif -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key -%}

  {%- set source_kind = config.get('source_kind', 'state') -%}
  {%- if source_kind not in ['state', 'changelog'] -%}
    {{ fail("scd2 model " ~ this ~ ": source_kind must be 'state' or 'changelog', got " ~ source_kind) }}
  {%- endif -%}
  {%- set hard_deletes = config.get('hard_deletes', 'ignore') -%}
  {%- if hard_deletes not in ['ignore', 'invalidate', 'new_record'] -%}
    {{ fail("scd2 model " ~ this ~ ": hard_deletes must be ignore, invalidate or new_record, got " ~ hard_deletes) }}
  {%- endif -%}

  {%- set updated_at = config.get('updated_at') -%}
  {%- set check_cols = config.get('check_cols') -%}
  {%- if source_kind == 'changelog' and not updated_at -%}
    {{ fail("scd2 model " ~ this ~ ": a changelog needs updated_at, the time each event happened") }}
  {%- endif -%}
  {%- if not updated_at and not check_cols -%}
    {{ fail("scd2 model " ~ this ~ ": set updated_at (timestamp strategy) or check_cols (a list or 'all')") }}
  {%- endif -%}
  {#- A change log's watermark defaults to updated_at; a state source has one only when loaded_at is set,
      since without a load time the whole source must be compared. -#}
  {%- set state_watermark = source_kind == 'state' and config.get('loaded_at') is not none -%}
  {#- A change log without loaded_at has no load time to bound a run by: its updated_at says when an event
      happened, not when it arrived, so a late event may be older than everything stored. -#}
  {%- set changelog_watermark = source_kind == 'changelog' and config.get('loaded_at') is not none -%}
  {%- set loaded_at = config.get('loaded_at') or updated_at -%}
  {%- set operation_column = config.get('operation_column') -%}
  {%- set delete_values = config.get('delete_values', ['delete', 'd', 'D']) -%}

  {%- set meta = {
      'scd_id': 'scd_id', 'valid_from': 'valid_from', 'valid_to': 'valid_to', 'is_current': 'is_current',
      'is_deleted': 'is_deleted', 'row_hash': 'row_hash', 'loaded_at': 'scd_loaded_at'} -%}
  {%- do meta.update(config.get('scd_columns', {})) -%}

  {%- for name in keys + ([updated_at] if updated_at else []) + ([loaded_at] if loaded_at else [])
        + ([operation_column] if operation_column else []) -%}
    {%- do steward.validate_identifier(name, 'scd2 column') -%}
    {%- if name | lower not in columns -%}
      {{ fail("scd2 model " ~ this ~ ": column " ~ name ~ " is not in the model's select (columns: "
              ~ (columns | join(', ')) ~ ")") }}
    {%- endif -%}
  {%- endfor -%}
  {%- for role, name in meta.items() -%}
    {%- do steward.validate_identifier(name, 'scd_columns.' ~ role) -%}
    {%- if name | lower in columns -%}
      {{ fail("scd2 model " ~ this ~ ": the select has a column named " ~ name ~ ", which scd2 adds as its "
              ~ role ~ " column; rename it or set scd_columns: {" ~ role ~ ": another_name}") }}
    {%- endif -%}
  {%- endfor -%}

  {#- Columns carried into the history: everything selected except the operation column. -#}
  {%- set payload = columns | reject('equalto', (operation_column or '') | lower) | list -%}
  {%- set not_tracked = (keys | map('lower') | list) + [(updated_at or '') | lower, (loaded_at or '') | lower] -%}
  {%- if check_cols and check_cols != 'all' -%}
    {%- set tracked = check_cols | map('lower') | list -%}
    {%- for name in tracked -%}
      {%- do steward.validate_identifier(name, 'check_cols') -%}
      {%- if name not in columns -%}{{ fail("scd2 model " ~ this ~ ": check_cols names " ~ name ~ ", not in the select") }}{%- endif -%}
    {%- endfor -%}
  {%- else -%}
    {%- set tracked = payload | reject('in', not_tracked) | list -%}
  {%- endif -%}

  {%- set far_future = config.get('current_valid_to') -%}
  {%- set grace = steward.duration_seconds(config.get('watermark_grace', '1h'), 'scd2 watermark_grace') -%}

  {{ return({
      'keys': keys | map('lower') | list, 'source_kind': source_kind, 'hard_deletes': hard_deletes,
      'updated_at': updated_at | lower if updated_at else none, 'loaded_at': loaded_at | lower if loaded_at else none,
      'strategy': 'timestamp' if updated_at and not check_cols else 'check', 'state_watermark': state_watermark,
      'changelog_watermark': changelog_watermark,
      'operation_column': operation_column | lower if operation_column else none, 'delete_values': delete_values,
      'meta': meta, 'payload': payload, 'tracked': tracked, 'far_future': far_future, 'grace_seconds': grace,
      'allow_full_refresh': config.get('allow_full_refresh', source_kind == 'changelog'),
  }) }}
{%- endmacro %}


{#- A SQL expression for `column`, masked outside production and for PII everywhere. -#}
{% macro mask(column, strategy='hash', column_meta=none, force=false) -%}
  {{ return(adapter.dispatch('mask', 'steward')(column, strategy, column_meta, force)) }}
{%- endmacro %}

{#- Masks when the `mask_pii` setting is on and (the target is not one of `prod_targets`, or
    column_meta says pii: true, or force=true); otherwise returns the column unchanged.
    hash: md5 hex of the value as text (NULL stays NULL); redact: '****' (NULL stays NULL);
    partial: first and last character with one '*' per hidden character, values of 4 characters
    or fewer all '*'; null: a NULL of the column's own type. -#}
{% macro default__mask(column, strategy='hash', column_meta=none, force=false) -%}
  {%- set column = steward.internal_column_reference(column, 'mask column') -%}
  {%- if strategy not in ['hash', 'redact', 'partial', 'null'] -%}
    {{ exceptions.raise_compiler_error("steward.mask: strategy must be 'hash', 'redact', 'partial' or 'null', got " ~ (strategy | tojson)) }}
  {%- endif -%}
  {%- if column_meta is not none and column_meta is not mapping -%}
    {{ exceptions.raise_compiler_error("steward.mask: column_meta must be a column's meta mapping (e.g. model.columns['email'].meta), got " ~ (column_meta | tojson)) }}
  {%- endif -%}
  {%- if force is not boolean -%}
    {{ exceptions.raise_compiler_error("steward.mask: force must be true or false, got " ~ (force | tojson)) }}
  {%- endif -%}
  {%- set prod_targets = steward.setting('prod_targets') -%}
  {%- if prod_targets is string -%}{%- set prod_targets = [prod_targets] -%}{%- endif -%}
  {%- set is_pii = (column_meta or {}).get('pii') in [true, 'true', 'True', 'yes'] -%}
  {%- set wanted = steward.setting('mask_pii') in [true, 'true', 'True']
        and (target.name not in prod_targets or is_pii or force) -%}
  {%- if not wanted -%}
    {{ return(column) }}
  {%- endif -%}
  {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' -%}
  {%- if strategy == 'hash' -%}
    {{ return('md5(' ~ text ~ ')') }}
  {%- elif strategy == 'redact' -%}
    {{ return("case when " ~ column ~ " is null then null else '****' end") }}
  {%- elif strategy == 'partial' -%}
    {{ return("case when " ~ column ~ " is null then null when length(" ~ text ~ ") <= 4 then repeat('*', length(" ~ text ~ ")) else "
        ~ dbt.concat(['substring(' ~ text ~ ', 1, 1)', "repeat('*', length(" ~ text ~ ") - 2)", dbt.right(text, '1')]) ~ " end") }}
  {%- else -%}
    {{ return('case when 1 = 0 then ' ~ column ~ ' end') }}
  {%- endif -%}
{%- endmacro %}

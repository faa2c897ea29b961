{#- Every non-NULL value of column_name fully matches a regular expression: `pattern`, or a
    named `preset`. -#}
{% test matches_pattern(model, column_name, pattern=none, preset=none, key_columns=none) %}
  {{ config(meta={'steward_dimension': 'validity'}) }}
  {{ return(adapter.dispatch('test_matches_pattern', 'steward')(model, column_name, pattern, preset, key_columns)) }}
{% endtest %}

{#- The presets are written in the subset shared by RE2 (DuckDB) and POSIX AREs (PostgreSQL):
    bracket classes, groups, alternation, ?, *, + and {m,n}; no \d, \w, lookaround. -#}
{% macro internal_core_pattern_presets() -%}
  {{ return({
      'email': '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}',
      'uuid': '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}',
      'iso_date': '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])',
      'phone': '[+][1-9][0-9]{6,14}',
      'url': '[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^ ]*)?',
  }) }}
{%- endmacro %}

{% macro default__test_matches_pattern(model, column_name, pattern=none, preset=none, key_columns=none) %}
  {%- set test_name = 'matches_pattern' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set keys = steward.internal_core_columns(key_columns, test_name, 'key_columns') -%}
  {%- set presets = steward.internal_core_pattern_presets() -%}
  {%- if (pattern is none) == (preset is none) -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": give exactly one of pattern and preset (" ~ (presets.keys() | sort | join(', ')) ~ ")") }}
  {%- endif -%}
  {%- if preset is not none -%}
    {%- if preset not in presets -%}
      {{ exceptions.raise_compiler_error(
          "steward." ~ test_name ~ ": unknown preset " ~ (preset | tojson) ~ "; known presets: "
          ~ (presets.keys() | sort | join(', '))) }}
    {%- endif -%}
    {%- set regex = presets[preset] -%}
    {%- set expected = 'matches preset ' ~ preset -%}
  {%- else -%}
    {%- if pattern is not string or pattern | length == 0 -%}
      {{ exceptions.raise_compiler_error(
          "steward." ~ test_name ~ ": pattern must be a non-empty regular expression string, got " ~ (pattern | tojson)) }}
    {%- endif -%}
    {%- set regex = pattern -%}
    {%- set expected = 'matches pattern ' ~ pattern -%}
  {%- endif -%}
  {%- set value = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' %}
select
    {{ steward.internal_core_row_context(keys) }},
    {{ value }} as steward_actual,
    {{ steward.internal_core_text(expected) }} as steward_expected
from {{ model }}
where {{ column }} is not null
    and not {{ steward.internal_core_regex_full_match(value, regex) }}
{% endmacro %}

{#- A boolean SQL expression: does `expression` match `regex` in full (anchored at both ends)? -#}
{% macro internal_core_regex_full_match(expression, regex) -%}
  {{ return(adapter.dispatch('internal_core_regex_full_match', 'steward')(expression, regex)) }}
{%- endmacro %}

{% macro default__internal_core_regex_full_match(expression, regex) -%}
  {{ exceptions.raise_compiler_error(
      "steward.matches_pattern: no regular expression support for adapter '" ~ adapter.type()
      ~ "'; define " ~ adapter.type() ~ "__internal_core_regex_full_match") }}
{%- endmacro %}

{#- DuckDB: RE2 syntax; regexp_full_match anchors the whole value. -#}
{% macro duckdb__internal_core_regex_full_match(expression, regex) -%}
  {{ return('regexp_full_match(' ~ expression ~ ', ' ~ steward.internal_sql_literal(regex, 'matches_pattern pattern') ~ ')') }}
{%- endmacro %}

{#- PostgreSQL: POSIX advanced regular expressions with `~`, anchored as ^(?:...)$. -#}
{% macro postgres__internal_core_regex_full_match(expression, regex) -%}
  {{ return('(' ~ expression ~ ' ~ ' ~ steward.internal_sql_literal('^(?:' ~ regex ~ ')$', 'matches_pattern pattern') ~ ')') }}
{%- endmacro %}

{#- The one place package settings are read. Named `setting`, not `config`: a
    macro called `config` would shadow dbt's own `config` inside every model
    this package ships. -#}
{% macro setting(key) -%}
  {{ return(adapter.dispatch('setting', 'steward')(key)) }}
{%- endmacro %}

{% macro default__setting(key) -%}
  {%- set defaults = {
      'run_timestamp': none,
      'identifier_pattern': '^[A-Za-z_][A-Za-z0-9_]*$',
      'unknown_member_key': -1,
      'fiscal_year_start_month': 1,
      'freshness_sla': '24h',
      'prod_targets': ['prod', 'production', 'prd'],
      'mask_pii': true,
      'pii_patterns_relation': 'steward_pii_patterns',
      'staging_targets': ['staging', 'stg', 'uat', 'qa'],
      'record_runs': false,
      'record_row_counts': true,
      'scorecard_runs': 10,
      'column_catalog': true,
      'schema_history': true,
      'pii_patterns_seed': true,
  } -%}
  {%- if key not in defaults -%}
    {{ exceptions.raise_compiler_error(
        "steward.setting: unknown key '" ~ key ~ "'; known keys: " ~ (defaults.keys() | sort | join(', '))) }}
  {%- endif -%}
  {%- set overrides = var('steward', {}) -%}
  {%- if overrides is not mapping -%}
    {{ exceptions.raise_compiler_error("var 'steward' must be a mapping of setting names to values, got: " ~ overrides) }}
  {%- endif -%}
  {%- set unknown = overrides.keys() | reject('in', defaults.keys()) | list -%}
  {%- if unknown -%}
    {{ exceptions.raise_compiler_error(
        "var 'steward' has unknown key(s) " ~ (unknown | sort | join(', ')) ~ "; known keys: " ~ (defaults.keys() | sort | join(', '))) }}
  {%- endif -%}
  {%- if key == 'record_runs' and key not in overrides -%}
    {#- The runner switches recording on through the environment, not --vars: a change of
        --vars makes dbt re-parse the whole project, an environment variable only the files
        that read it. Read only for this key, so other files do not depend on it. -#}
    {{ return(env_var('STEWARD_RECORD_RUNS', 'false') | lower in ['1', 'true', 'yes']) }}
  {%- endif -%}
  {{ return(overrides.get(key, defaults[key])) }}
{%- endmacro %}

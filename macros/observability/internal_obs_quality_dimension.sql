{#- The quality dimension a test node measures: its meta steward_dimension (steward's tests set
    it), else the dimension of dbt's built-in generic test, else none. -#}
{% macro internal_obs_quality_dimension(node) -%}
  {%- if node.resource_type != 'test' -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set meta = node.config.meta or {} -%}
  {%- if meta.get('steward_dimension') -%}
    {{ return(meta.get('steward_dimension')) }}
  {%- endif -%}
  {%- set builtin = {'not_null': 'completeness', 'unique': 'uniqueness', 'accepted_values': 'validity',
                     'relationships': 'consistency'} -%}
  {%- set test_name = (node.test_metadata or {}).get('name') if node.test_metadata is mapping
                      else (node.test_metadata.name if node.test_metadata else none) -%}
  {{ return(builtin.get(test_name)) }}
{%- endmacro %}

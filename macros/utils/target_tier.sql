{#- The tier of the current target: the runner's own tier when it runs the deploy, else the
    same rule the runner uses on the target's name. -#}
{% macro target_tier() -%}
  {{ return(adapter.dispatch('target_tier', 'steward')()) }}
{%- endmacro %}

{% macro default__target_tier() -%}
  {%- set from_runner = env_var('STEWARD_TIER', '') -%}
  {%- if from_runner -%}
    {{ return(from_runner) }}
  {%- elif target.name | lower in steward.setting('prod_targets') -%}
    {{ return('prod') }}
  {%- elif target.name | lower in steward.setting('staging_targets') -%}
    {{ return('staging') }}
  {%- endif -%}
  {{ return('dev') }}
{%- endmacro %}

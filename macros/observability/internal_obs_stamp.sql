{#- A Python datetime (or an ISO string) as a SQL timestamp literal, in UTC, or null. -#}
{% macro internal_obs_stamp(value) -%}
  {%- if value is none or (value | string) == '' -%}
    {{ return('null') }}
  {%- endif -%}
  {%- set text = value.strftime('%Y-%m-%d %H:%M:%S.%f') if value is not string else value.replace('T', ' ').replace('Z', '') -%}
  {{ return("cast('" ~ text[:26] ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

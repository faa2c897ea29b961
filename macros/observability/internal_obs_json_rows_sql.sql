{#- A FROM item yielding one JSON array per element of `json_array` (a JSON text of an array of
    arrays), as column `r`, for the adapters whose SQL parses JSON; '' for the others, which get a
    VALUES list instead (internal_obs_insert_values). Lets the run-end hook pass ~17,000 values to the
    database as one literal serialised natively, with no Jinja per value. -#}
{% macro internal_obs_json_rows_sql(json_array) -%}
  {{ return(adapter.dispatch('internal_obs_json_rows_sql', 'steward')(json_array)) }}
{%- endmacro %}

{% macro default__internal_obs_json_rows_sql(json_array) -%}
  {{ return('') }}
{%- endmacro %}

{% macro postgres__internal_obs_json_rows_sql(json_array) -%}
  {{ return("json_array_elements(cast('" ~ json_array.replace("'", "''") ~ "' as json)) as recorded (r)") }}
{%- endmacro %}

{% macro duckdb__internal_obs_json_rows_sql(json_array) -%}
  {{ return("(select unnest(cast(cast('" ~ json_array.replace("'", "''") ~ "' as json) as json[])) as r) as recorded") }}
{%- endmacro %}

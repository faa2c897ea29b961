{#- The canonical text of one value, as steward.surrogate_key hashes it: the same
    string on every adapter for integers, bigints, text, dates, timestamps (without
    time zone), booleans ('true'/'false') and numerics of fixed scale ('1.50'). -#}
{% macro surrogate_key_text(expression) -%}
  {{ return(adapter.dispatch('surrogate_key_text', 'steward')(expression)) }}
{%- endmacro %}

{% macro default__surrogate_key_text(expression) -%}
  cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- Postgres writes dates and timestamps as text in the session's DateStyle (a
    `DateStyle = 'SQL, DMY'` session gives 25/12/2020); to_jsonb always writes ISO 8601,
    with a `T` that is replaced to match the other adapters' `2020-12-25 10:00:00`. -#}
{% macro postgres__surrogate_key_text(expression) -%}
  case
    when pg_typeof({{ expression }}) = 'timestamp without time zone'::regtype
      then replace(to_jsonb({{ expression }}) #>> '{}', 'T', ' ')
    when pg_typeof({{ expression }}) = 'date'::regtype
      then to_jsonb({{ expression }}) #>> '{}'
    else cast({{ expression }} as {{ dbt.type_string() }})
  end
{%- endmacro %}

{#- A number argument (not a boolean), optionally bounded; none is allowed only when not required. -#}
{% macro internal_core_number(value, test_name, argument, required=true, minimum=none, maximum=none, integer=false) -%}
  {%- if value is none and not required -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set ok = value is number and value is not boolean and (not integer or value is integer) -%}
  {%- if ok and minimum is not none and value < minimum -%}
    {%- set ok = false -%}
  {%- endif -%}
  {%- if ok and maximum is not none and value > maximum -%}
    {%- set ok = false -%}
  {%- endif -%}
  {%- if not ok -%}
    {%- set kind = 'an integer' if integer else 'a number' -%}
    {%- set bounds = [] -%}
    {%- if minimum is not none -%}{%- do bounds.append('>= ' ~ minimum) -%}{%- endif -%}
    {%- if maximum is not none -%}{%- do bounds.append('<= ' ~ maximum) -%}{%- endif -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": " ~ argument ~ " must be " ~ kind
        ~ ((' ' ~ (bounds | join(' and '))) if bounds else '') ~ ", got " ~ (value | tojson)) }}
  {%- endif -%}
  {{ return(value) }}
{%- endmacro %}

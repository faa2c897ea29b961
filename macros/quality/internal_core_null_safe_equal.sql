{#- NULL-safe equality of two column references, written portably. -#}
{% macro internal_core_null_safe_equal(left, right) -%}
  {{ return("(" ~ left ~ " = " ~ right ~ " or (" ~ left ~ " is null and " ~ right ~ " is null))") }}
{%- endmacro %}

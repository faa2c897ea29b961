{#- Spark: Java regular expressions with RLIKE, anchored as ^(?:...)$. Spark's string literals read
    backslash escapes, so the backslashes of the expression are doubled to reach the regex intact. -#}
{% macro spark__internal_core_regex_full_match(expression, regex) -%}
  {%- set anchored = '^(?:' ~ regex ~ ')$' -%}
  {{ return('(' ~ expression ~ ' rlike ' ~ steward.internal_sql_literal(anchored.replace('\\', '\\\\'), 'matches_pattern pattern') ~ ')') }}
{%- endmacro %}

{#- Whether an upper-case IBAN without spaces passes the ISO 13616 mod-97 check: the first four
    characters move to the end, letters become 10..35, and the number mod 97 must be 1. The
    remainder is carried one character at a time (34 at most), so no big numbers are needed;
    positions past the end multiply by 1 and add 0. -#}
{% macro internal_gov_iban_sql(compact) -%}
  {%- set rearranged = dbt.concat(["substring(" ~ compact ~ ", 5, 30)", "substring(" ~ compact ~ ", 1, 4)"]) -%}
  {%- set ns = namespace(expression='0') -%}
  {%- for k in range(1, 35) -%}
    {%- set c = "substring(" ~ rearranged ~ ", " ~ k ~ ", 1)" -%}
    {%- set beyond = "length(" ~ compact ~ ") < " ~ k -%}
    {%- set multiplier = "case when " ~ beyond ~ " then 1 when " ~ c ~ " between 'A' and 'Z' then 100 else 10 end" -%}
    {%- set addend = "case when " ~ beyond ~ " then 0 when " ~ c ~ " between 'A' and 'Z' then ascii(" ~ c ~ ") - 55 else cast(" ~ c ~ " as integer) end" -%}
    {%- set ns.expression = "mod(" ~ ns.expression ~ " * (" ~ multiplier ~ ") + (" ~ addend ~ "), 97)" -%}
  {%- endfor -%}
  {{ return("(length(" ~ compact ~ ") between 15 and 34 and " ~ ns.expression ~ " = 1)") }}
{%- endmacro %}

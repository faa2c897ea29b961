{#- Whether a string of 13 to 19 digits passes the Luhn checksum: from the right, every second
    digit is doubled (minus 9 when above 9) and the sum must be a multiple of 10. -#}
{% macro internal_gov_luhn_sql(digits) -%}
  {%- set terms = [] -%}
  {%- for i in range(19) -%}
    {%- set digit = "cast(substring(" ~ digits ~ ", length(" ~ digits ~ ") - " ~ i ~ ", 1) as integer)" -%}
    {%- if i % 2 == 1 -%}
      {%- set value = "case when " ~ digit ~ " * 2 > 9 then " ~ digit ~ " * 2 - 9 else " ~ digit ~ " * 2 end" -%}
    {%- else -%}
      {%- set value = digit -%}
    {%- endif -%}
    {%- do terms.append("case when length(" ~ digits ~ ") > " ~ i ~ " then " ~ value ~ " else 0 end") -%}
  {%- endfor -%}
  {{ return("(length(" ~ digits ~ ") between 13 and 19 and mod(" ~ terms | join(' + ') ~ ", 10) = 0)") }}
{%- endmacro %}

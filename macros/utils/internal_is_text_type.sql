{#- Whether a data type name is a character type (text, varchar(n), character varying, ...). -#}
{% macro internal_is_text_type(data_type) -%}
  {{ return(modules.re.match('^\\s*(text|varchar|character varying|character|char|bpchar|string|nvarchar)\\b',
                              data_type | string | lower) is not none) }}
{%- endmacro %}

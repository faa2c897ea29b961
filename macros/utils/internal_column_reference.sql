{#- A column reference taken from a macro argument: `col`, `alias.col`, or parts in
    double quotes (`"Col"`, as adapter.quote returns them; backticks on Spark). Every unquoted part must
    pass steward.validate_identifier; quoted parts may not contain their quote character. -#}
{% macro internal_column_reference(value, field) -%}
  {%- if value is not string or value | length == 0 -%}
    {{ exceptions.raise_compiler_error("steward: " ~ field ~ " must be a column name, got " ~ (value | tojson)) }}
  {%- endif -%}
  {%- for part in value.split('.') -%}
    {%- if not modules.re.match('^("[^"]+"|`[^`]+`)$', part) -%}
      {%- do steward.validate_identifier(part, field) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(value) }}
{%- endmacro %}

{#- One spelling per data type, so DuckDB's and PostgreSQL's names (and a user's) compare equal:
    integer = int = int4 = int32 = signed; bigint = int8 = int64 = long; smallint = int2 = int16;
    text = varchar = character varying = string = nvarchar (any length); numeric = decimal (any
    precision); timestamp = timestamp without time zone = datetime; timestamptz = timestamp with
    time zone; boolean = bool = logical; double = double precision = float8 = float64;
    real = float4; date. Anything else is compared lowercased with its parameters. -#}
{% macro internal_gov_normalise_type(data_type) -%}
  {%- set text = modules.re.sub('\\s+', ' ', data_type | string | lower | trim) -%}
  {%- set match = modules.re.match('^([a-z0-9_ ]+?) ?(\\(.*\\))?$', text) -%}
  {%- if not match -%}
    {{ return(text) }}
  {%- endif -%}
  {%- set name = steward.internal_gov_dialect_type(match.group(1) | trim) -%}
  {%- set groups = {
      'integer': ['integer', 'int', 'int4', 'int32', 'signed'],
      'bigint': ['bigint', 'int8', 'int64', 'long'],
      'smallint': ['smallint', 'int2', 'int16', 'short'],
      'text': ['text', 'varchar', 'character varying', 'char varying', 'string', 'nvarchar'],
      'numeric': ['numeric', 'decimal'],
      'timestamp': ['timestamp', 'timestamp without time zone', 'datetime'],
      'timestamptz': ['timestamptz', 'timestamp with time zone'],
      'boolean': ['boolean', 'bool', 'logical'],
      'double': ['double', 'double precision', 'float8', 'float64'],
      'real': ['real', 'float4'],
      'date': ['date'],
  } -%}
  {%- for canonical, spellings in groups.items() -%}
    {%- if name in spellings -%}
      {{ return(canonical) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(text) }}
{%- endmacro %}

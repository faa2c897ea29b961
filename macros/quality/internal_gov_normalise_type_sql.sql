{#- The same normalisation as internal_gov_normalise_type, as a SQL expression over a type-name column. -#}
{% macro internal_gov_normalise_type_sql(expression) -%}
  {%- set t = "lower(trim(" ~ expression ~ "))" -%}
  {%- set sql -%}
    case
        when {{ t }} in ('integer', 'int', 'int4', 'int32', 'signed') then 'integer'
        when {{ t }} in ('bigint', 'int8', 'int64', 'long') then 'bigint'
        when {{ t }} in ('smallint', 'int2', 'int16', 'short') then 'smallint'
        when {{ t }} in ('text', 'string', 'nvarchar') or {{ t }} like 'varchar%' or {{ t }} like 'character varying%' or {{ t }} like 'char varying%' then 'text'
        when {{ t }} like 'numeric%' or {{ t }} like 'decimal%' then 'numeric'
        when {{ t }} in ('timestamp', 'timestamp without time zone', 'datetime') then 'timestamp'
        when {{ t }} in ('timestamptz', 'timestamp with time zone') then 'timestamptz'
        when {{ t }} in ('boolean', 'bool', 'logical') then 'boolean'
        when {{ t }} in ('double', 'double precision', 'float8', 'float64') then 'double'
        when {{ t }} in ('real', 'float4') then 'real'
        else {{ t }}
    end
  {%- endset -%}
  {{ return(sql) }}
{%- endmacro %}

{#- Rows of raw values as the body of a VALUES list: each value a SQL literal by the kind of its
    column, 'text' (one line, at most 1000 characters, quotes doubled), 'stamp' (a Python datetime
    or an ISO string, in UTC, cast to a timestamp) or 'number'; none and '' become null. The same
    literals as internal_obs_text / internal_obs_stamp, formatted inline: a 1,000-node run records
    ~17,000 values, and a dbt macro call per value cost more than the inserts themselves
    (bench/record_run.py). -#}
{% macro internal_obs_values_sql(rows, kinds) -%}
  {%- set stamp_type = dbt.type_timestamp() -%}
  {%- set lines = [] -%}
  {%- for row in rows -%}
    {%- set literals = [] -%}
    {%- for value in row -%}
      {%- set kind = kinds[loop.index0] -%}
      {%- if value is none or (value | string) == '' -%}
        {%- do literals.append('null') -%}
      {%- elif kind == 'text' -%}
        {%- do literals.append("'" ~ ((value | string).split() | join(' '))[:1000].replace("'", "''") ~ "'") -%}
      {%- elif kind == 'stamp' -%}
        {%- set stamp = value.replace('T', ' ').replace('Z', '') if value is string else value.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
        {%- do literals.append("cast('" ~ stamp[:26] ~ "' as " ~ stamp_type ~ ")") -%}
      {%- else -%}
        {%- do literals.append(value | string) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do lines.append('(' ~ (literals | join(', ')) ~ ')') -%}
  {%- endfor -%}
  {{ return(lines | join(',\n')) }}
{%- endmacro %}

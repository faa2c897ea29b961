{#-
    Convert an integer amount in cents to a fixed-scale decimal currency amount.

    Portable between DuckDB and Postgres: DuckDB turns DECIMAL / INTEGER into a
    DOUBLE, so the division happens first and the result is cast back to a
    fixed-scale numeric (the cast rounds to the nearest cent on both adapters).
-#}
{% macro cents_to_amount(column_name, precision=18, scale=2) -%}
    cast(({{ column_name }}) / 100.0 as numeric({{ precision }}, {{ scale }}))
{%- endmacro %}

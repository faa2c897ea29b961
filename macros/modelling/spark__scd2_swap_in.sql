{#- Replace the table `target` by the rows of `select_sql` (its `columns`): written into `<name>__stw_next`,
    made LIKE the target (format, partitioning, properties), then swapped in by two renames and the old
    table dropped. A run stopped between the renames leaves `<name>__stw_old` and `<name>__stw_next`: the
    history is in one of them, nothing is lost. -#}
{% macro spark__scd2_swap_in(target, columns, select_sql) -%}
  {%- set next = target.incorporate(path={'identifier': target.identifier ~ '__stw_next'}) -%}
  {%- set old = target.incorporate(path={'identifier': target.identifier ~ '__stw_old'}) -%}
  {% do adapter.drop_relation(next) %}
  {% do adapter.drop_relation(old) %}
  {% do run_query('create table ' ~ next ~ ' like ' ~ target) %}
  {% do run_query('insert into ' ~ next ~ ' (' ~ (columns | join(', ')) ~ ') select ' ~ (columns | join(', '))
                  ~ ' from (' ~ select_sql ~ ') as stw_next_state') %}
  {% do run_query('alter table ' ~ target ~ ' rename to ' ~ old) %}
  {% do run_query('alter table ' ~ next ~ ' rename to ' ~ target) %}
  {% do adapter.drop_relation(old) %}
{%- endmacro %}

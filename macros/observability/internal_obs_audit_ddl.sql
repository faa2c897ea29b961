{#- The statements that make steward's audit table `table_name` at `relation` ready for the hook's
    insert, [] when it already is: a create of the empty table when it is missing; otherwise one
    `alter table ... add column` per column of the package's list (internal_obs_audit_columns) that
    the table lacks, NULL in the rows already there. Never a drop, a delete or a rewrite: columns the
    list no longer has stay, and the recorded history is kept. Costs one read of the table's columns
    when it exists. -#}
{% macro internal_obs_audit_ddl(relation, table_name) -%}
  {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
  {%- if existing is none -%}
    {{ return([get_create_table_as_sql(false, relation, steward.internal_obs_audit_shell(table_name))]) }}
  {%- endif -%}
  {%- if existing.type != 'table' -%}
    {{ exceptions.raise_compiler_error("steward: the audit table " ~ existing ~ " exists as a " ~ existing.type
                                       ~ "; steward never drops audit history, so rename or drop it yourself") }}
  {%- endif -%}
  {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
  {%- set statements = [] -%}
  {%- for name, data_type in steward.internal_obs_audit_columns(table_name) if name not in present -%}
    {%- do statements.append('alter table ' ~ existing ~ ' add column ' ~ name ~ ' ' ~ data_type) -%}
  {%- endfor -%}
  {{ return(statements) }}
{%- endmacro %}

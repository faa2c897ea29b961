{#- The row count of every relation the run built, in ONE insert ... select of count(*) per
    relation, plus the metrics models declare in meta steward_metrics ({name: sql expression}). -#}
{% macro internal_obs_insert_row_counts(nodes, invocation, measured_at, relation=none) -%}
  {%- set relation = relation or steward.internal_obs_audit_relation('steward_metrics') -%}
  {%- set columns = steward.internal_obs_audit_columns('steward_metrics') | map(attribute=0) | join(', ') -%}
  {%- set sql -%}
    insert into {{ relation }} ({{ columns }})
    {%- for node in nodes %}
    {%- set declared = (node.config.meta or {}).get('steward_metrics') or {} %}
    select {{ invocation }}, {{ measured_at }}, {{ steward.internal_obs_text(node.unique_id) }},
           {{ steward.internal_obs_text(node.name) }}, 'row_count', cast(count(*) as {{ dbt.type_float() }})
    from {{ node.relation_name }}
    {%- for metric_name, expression in declared.items() %}
    union all
    select {{ invocation }}, {{ measured_at }}, {{ steward.internal_obs_text(node.unique_id) }},
           {{ steward.internal_obs_text(node.name) }}, {{ steward.internal_obs_text(steward.validate_identifier(metric_name, 'meta steward_metrics name')) }},
           cast({{ expression }} as {{ dbt.type_float() }})
    from {{ node.relation_name }}
    {%- endfor %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
  {%- endset -%}
  {%- do steward.internal_obs_execute(sql) -%}
{%- endmacro %}

{#- Apply the staged decisions of steward.scd2_history_sql to the scd2 table: delete the stored
    versions the re-stitch dropped or replaced, update windows that changed (closing a version,
    as dbt snapshot does), insert new versions. Every statement joins the staging rows to the
    history by key and scd_id, or key and valid_from (one version per key and instant), so the
    fast path need not hash the scd_id of the version it closes; nothing unchanged is read for
    writing or rewritten. -#}
{% macro scd2_merge_sql(settings, target, staging) -%}
  {{ return(adapter.dispatch('scd2_merge_sql', 'steward')(settings, target, staging)) }}
{%- endmacro %}

{% macro default__scd2_merge_sql(settings, target, staging) -%}
  {%- set m = settings.meta -%}
  {%- set columns = settings.payload + [m.scd_id, m.valid_from, m.valid_to, m.is_current, m.is_deleted,
                                         m.row_hash, m.loaded_at] -%}
  {%- set same_version -%}
    {% for k in settings['keys'] %}s.{{ k }} = t.{{ k }} and {% endfor %}s.{{ m.scd_id }} = t.{{ m.scd_id }}
  {%- endset -%}
delete from {{ target }} as t
where exists (
    select 1 from {{ staging }} as s
    where s.stw_action in ('delete', 'replace') and {{ same_version }}
);

update {{ target }} as t
set {{ m.valid_to }} = s.{{ m.valid_to }}, {{ m.is_current }} = s.{{ m.is_current }}
from {{ staging }} as s
where s.stw_action = 'update'
    and {% for k in settings['keys'] %}s.{{ k }} = t.{{ k }} and {% endfor %}s.{{ m.valid_from }} = t.{{ m.valid_from }};

insert into {{ target }} ({{ columns | join(', ') }})
select {% for c in columns %}s.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ staging }} as s
where s.stw_action in ('insert', 'replace')
{%- endmacro %}

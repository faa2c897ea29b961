{#- Apply a recomputed history to the scd2 table: delete the versions of affected keys that
    differ from it, insert the ones that are new. Unchanged versions are not rewritten. -#}
{% macro scd2_merge_sql(settings, target, staging) -%}
  {{ return(adapter.dispatch('scd2_merge_sql', 'steward')(settings, target, staging)) }}
{%- endmacro %}

{% macro default__scd2_merge_sql(settings, target, staging) -%}
  {%- set m = settings.meta -%}
  {%- set columns = settings.payload + [m.scd_id, m.valid_from, m.valid_to, m.is_current, m.is_deleted,
                                         m.row_hash, m.loaded_at] -%}
  {%- set same_version -%}
    s.{{ m.scd_id }} = t.{{ m.scd_id }}
    and s.{{ m.row_hash }} = t.{{ m.row_hash }}
    and s.{{ m.is_deleted }} = t.{{ m.is_deleted }}
    and (s.{{ m.valid_to }} = t.{{ m.valid_to }} or (s.{{ m.valid_to }} is null and t.{{ m.valid_to }} is null))
  {%- endset -%}
delete from {{ target }} as t
where exists (
        select 1 from {{ staging }} as s
        where {% for k in settings['keys'] %}s.{{ k }} = t.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
    and not exists (select 1 from {{ staging }} as s where {{ same_version }});

insert into {{ target }} ({{ columns | join(', ') }})
select {% for c in columns %}s.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ staging }} as s
where not exists (select 1 from {{ target }} as t where {{ same_version }})
{%- endmacro %}

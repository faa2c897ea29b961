{#- Apply a recomputed history to the scd2 table. Only the re-stitched window of each affected
    key (versions still open at its first new event) is considered: versions that vanished are
    deleted, versions whose window changed are updated in place (closing a current version is an
    update, as in dbt snapshot), and new versions are inserted. Nothing unchanged is rewritten. -#}
{% macro scd2_merge_sql(settings, target, staging) -%}
  {{ return(adapter.dispatch('scd2_merge_sql', 'steward')(settings, target, staging)) }}
{%- endmacro %}

{% macro default__scd2_merge_sql(settings, target, staging) -%}
  {%- set m = settings.meta -%}
  {%- set keys = settings['keys'] -%}
  {%- set columns = settings.payload + [m.scd_id, m.valid_from, m.valid_to, m.is_current, m.is_deleted,
                                         m.row_hash, m.loaded_at] -%}
  {%- set same_key -%}
    {% for k in keys %}s.{{ k }} = t.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
  {%- endset -%}
  {%- set same_version -%}
    {{ same_key }} and s.{{ m.scd_id }} = t.{{ m.scd_id }}
    and s.{{ m.row_hash }} = t.{{ m.row_hash }} and s.{{ m.is_deleted }} = t.{{ m.is_deleted }}
  {%- endset -%}
delete from {{ target }} as t
where exists (
        select 1 from {{ staging }} as s
        where {{ same_key }} and (t.{{ m.valid_to }} is null or t.{{ m.valid_to }} > s.stw_window_start)
    )
    and not exists (select 1 from {{ staging }} as s where {{ same_version }});

update {{ target }} as t
set {{ m.valid_to }} = s.{{ m.valid_to }}, {{ m.is_current }} = s.{{ m.is_current }}
from {{ staging }} as s
where {{ same_version }}
    and (
        s.{{ m.valid_to }} <> t.{{ m.valid_to }}
        or (s.{{ m.valid_to }} is null and t.{{ m.valid_to }} is not null)
        or (s.{{ m.valid_to }} is not null and t.{{ m.valid_to }} is null)
    );

insert into {{ target }} ({{ columns | join(', ') }})
select {% for c in columns %}s.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ staging }} as s
where not exists (select 1 from {{ target }} as t where {{ same_key }} and t.{{ m.scd_id }} = s.{{ m.scd_id }})
{%- endmacro %}

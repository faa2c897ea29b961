{#- The scd2 table's next state on Spark, as one select: the stored versions the staged decisions keep (with
    the windows they close), then the new ones; default__scd2_merge_sql's delete, update and insert, read
    instead of written. -#}
{% macro spark__scd2_next_state(settings, existing, staging, columns) -%}
  {%- set m = settings.meta -%}
  {%- set keys = settings['keys'] -%}
  select
      {%- for c in columns %}
      {% if c in [m.valid_to, m.is_current] -%}
      case when u.{{ m.valid_from }} is not null then u.{{ c }} else t.{{ c }} end
      {%- else -%}
      t.{{ c }}
      {%- endif %} as {{ c }}{% if not loop.last %},{% endif %}
      {%- endfor %}
  from {{ existing }} as t
  left join (
      select {% for k in keys %}{{ k }}, {% endfor %}{{ m.valid_from }}, {{ m.valid_to }}, {{ m.is_current }}
      from {{ staging }}
      where stw_action = 'update'
  ) as u
      on {% for k in keys %}u.{{ k }} = t.{{ k }} and {% endfor %}u.{{ m.valid_from }} = t.{{ m.valid_from }}
  where not exists (
      select 1 from {{ staging }} as s
      where s.stw_action in ('delete', 'replace')
          and {% for k in keys %}s.{{ k }} = t.{{ k }} and {% endfor %}s.{{ m.scd_id }} = t.{{ m.scd_id }}
  )
  union all
  select {% for c in columns %}s.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
  from {{ staging }} as s
  where s.stw_action in ('insert', 'replace')
{%- endmacro %}

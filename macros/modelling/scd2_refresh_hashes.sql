{#- Keeps every stored row_hash computed over the model's current tracked columns, which the fast
    path relies on when it compares a new row with the stored hash of its current version. The
    tracked column list is part of the hash, so after it changes (a new column appended, check_cols
    edited) no stored hash matches any more and one sampled row tells: then every row is rehashed,
    once. Returns the check query and the update. -#}
{% macro scd2_refresh_hashes(settings, existing) -%}
  {{ return(adapter.dispatch('scd2_refresh_hashes', 'steward')(settings, existing)) }}
{%- endmacro %}

{% macro default__scd2_refresh_hashes(settings, existing) -%}
  {%- set m = settings.meta -%}
  {%- set fresh_hash = steward.scd2_hash(settings.tracked, 'tracked:' ~ (settings.tracked | join(','))) -%}
  {{ return({
      'check': 'select case when ' ~ m.row_hash ~ ' = ' ~ fresh_hash ~ ' then 1 else 0 end as stw_fresh from '
               ~ existing ~ ' limit 1',
      'rehash': 'update ' ~ existing ~ ' set ' ~ m.row_hash ~ ' = ' ~ fresh_hash,
  }) }}
{%- endmacro %}

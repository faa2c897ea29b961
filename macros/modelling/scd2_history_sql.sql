{#- The history of the keys that have new events, as the rows the scd2 table should hold for them.

    Events are the model's new rows (a change log's events, or a state source's differences from
    the current versions) plus the stored versions of the same keys, so late events land in place
    and history survives a change log that forgets old events. Per key and instant the latest load
    wins; an event equal to the one before it is dropped; each kept event opens a version that the
    next one closes.

    A state source's key whose one new event comes after its live current version (the plain
    case: every change of a dbt snapshot) takes a fast path: its new version is inserted and the
    current one closed, without reading its stored versions or running the window pipeline. Every
    other key (new, deleted, late, or a change log's) is re-stitched. -#}
{% macro scd2_history_sql(settings, source_sql, existing) -%}
  {{ return(adapter.dispatch('scd2_history_sql', 'steward')(settings, source_sql, existing)) }}
{%- endmacro %}

{% macro default__scd2_history_sql(settings, source_sql, existing) -%}
  {%- set s = settings -%}
  {%- set m = s.meta -%}
  {%- set ts = dbt.type_timestamp() -%}
  {%- set keys = s['keys'] -%}
  {%- set key_match = [] -%}
  {%- for k in keys -%}{%- do key_match.append('a.' ~ k ~ ' = t.' ~ k) -%}{%- endfor -%}
  {%- set key_match = key_match | join(' and ') -%}
  {%- set payload_list = s.payload | join(', ') -%}
  {%- set hashed_cols = [] -%}
  {%- for c in s.tracked -%}{%- do hashed_cols.append('e.' ~ c) -%}{%- endfor -%}
  {%- set hash_label = 'tracked:' ~ (s.tracked | join(',')) -%}
  {%- set inline = steward.scd2_cte_keyword(false) -%}
  {%- set once = steward.scd2_cte_keyword(true) -%}
  {%- set partition = keys | join(', ') -%}
  {%- set versioned_keys = [] -%}
  {%- set decided_keys = [] -%}
  {%- set fast_keys = [] -%}
  {%- for k in keys -%}
    {%- do versioned_keys.append('v.' ~ k) -%}
    {%- do decided_keys.append('d.' ~ k) -%}
    {%- do fast_keys.append('f.' ~ k) -%}
  {%- endfor -%}
  {%- set src_tracked = [] -%}
  {%- for c in s.tracked -%}
    {%- do src_tracked.append('src.' ~ c) -%}
  {%- endfor -%}
  {%- if s.operation_column -%}
    {%- set quoted = [] -%}
    {%- for v in s.delete_values -%}{%- do quoted.append("'" ~ (v | string | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {%- set is_delete = 'coalesce(' ~ s.operation_column ~ ' in (' ~ (quoted | join(', ')) ~ '), false)' -%}
  {%- else -%}
    {%- set is_delete = 'false' -%}
  {%- endif -%}

{%- set watermarked = s.state_watermark and existing is not none %}
{%- set fast_path = existing is not none and (s.source_kind == 'state' or s.changelog_watermark) %}
{%- if watermarked %}
{%- set loaded = "cast(stw_source." ~ s.loaded_at ~ " as " ~ ts ~ ")" %}
{#- Only rows loaded since the watermark (steward.scd2_watermark, a constant) can differ from their
    current version; a row with no load time is always compared. #}
with stw_source_rows as {{ inline }} (
    {{ source_sql }}
),

{#- Past the watermark the source is a few rows, computed once though read several times. #}
source_data as {{ once }} (
    select stw_source.*
    from stw_source_rows as stw_source
    where stw_source.{{ s.loaded_at }} is null or {{ loaded }} > {{ s.since }}
    {%- if s.hard_deletes != 'ignore' %}
    union all
    {#- Deletes are judged against the whole source, so the return of a key is too: a key with no live
        current version (new, or deleted before) is read whatever its load time. #}
    select stw_source.*
    from stw_source_rows as stw_source
    left join {{ existing }} as stw_live
        on {% for k in keys %}stw_live.{{ k }} = stw_source.{{ k }} and {% endfor %}stw_live.{{ m.is_current }}
        and not stw_live.{{ m.is_deleted }}
    where stw_live.{{ keys[0] }} is null and {{ loaded }} <= {{ s.since }}
    {%- endif %}
),
{%- else %}
with source_data as {{ inline }} (
    {{ source_sql }}
),
{%- endif %}
{%- if watermarked and s.hard_deletes != 'ignore' %}
{#- A deleted key is one missing from the whole source, not from its new rows: its keys are read in full. #}
source_keys as {{ inline }} (
    select {% for k in keys %}stw_source.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %}
    from stw_source_rows as stw_source
),
{%- endif %}

{% if s.source_kind == 'changelog' and existing is none %}
new_events as (
    select
        {{ payload_list }},
        cast({{ s.updated_at }} as {{ ts }}) as stw_event_at,
        cast({{ s.loaded_at }} as {{ ts }}) as stw_loaded_at,
        {{ is_delete }} as stw_is_delete
    from source_data
),
{% elif s.source_kind == 'changelog' and s.changelog_watermark %}
loaded_events as {{ inline }} (
    select
        {{ payload_list }},
        cast(e.{{ s.updated_at }} as {{ ts }}) as stw_event_at,
        cast(e.{{ s.loaded_at }} as {{ ts }}) as stw_loaded_at,
        {{ is_delete }} as stw_is_delete,
        {{ steward.scd2_hash(hashed_cols, hash_label) }} as stw_hash
    from source_data as e
    where cast(e.{{ s.loaded_at }} as {{ ts }}) > {{ s.since }}
),
{#- Each event meets its key's current version. An event that is that version (its instant and values,
    re-read within the grace window) is dropped; a key whose one remaining event is a change after its
    live current version and after the watermark takes the fast path, as for a state source; every other
    key is re-stitched. An event no later than the watermark or its key's current version is late: events
    loaded before the watermark may follow it, among them no-op events that collapsed into the version
    before them and are a change again once the late event precedes them, so a late key's older events
    are read back from the source. #}
{#- The current versions of the keys with new events only: a semi join the engine drives from the few new
    events, not a hash table of every current version. #}
event_current_versions as (
    select {% for k in keys %}t.{{ k }}, {% endfor %}t.{{ m.valid_from }}, t.{{ m.is_deleted }}, t.{{ m.row_hash }}
    from {{ existing }} as t
    where t.{{ m.is_current }}
        and exists (
            select 1 from loaded_events as n
            where {% for k in keys %}n.{{ k }} = t.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
),
unknown_events as (
    select
        e.*,
        cur.{{ m.valid_from }} as stw_current_from,
        cur.{{ keys[0] }} is not null and not cur.{{ m.is_deleted }} as stw_current_live,
        cur.{{ m.row_hash }} as stw_current_hash,
        e.stw_event_at <= {{ s.since }} or coalesce(e.stw_event_at <= cur.{{ m.valid_from }}, false) as stw_late
    from loaded_events as e
    left join event_current_versions as cur
        on {% for k in keys %}cur.{{ k }} = e.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    where not (
        coalesce(e.stw_event_at = cur.{{ m.valid_from }} and e.stw_hash = cur.{{ m.row_hash }}, false)
        and not e.stw_is_delete and not cur.{{ m.is_deleted }}
    )
),
new_events as (
    select
        e.*,
        count(*) over (partition by {% for k in keys %}e.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %}) = 1
            and not e.stw_is_delete and e.stw_current_live and e.stw_event_at > e.stw_current_from
            and e.stw_hash <> e.stw_current_hash and not e.stw_late as stw_fast
    from unknown_events as e
),
{% elif s.source_kind == 'changelog' %}
{#- No load time: no event can be skipped by when it happened, since a late one may be older than
    everything stored. Every event is compared with the stored version live at its instant: a change
    is known when that version holds its values, a delete when no live version holds that instant.
    Only the keys with an unknown event are re-stitched, so the same log twice writes nothing. #}
log_events as {{ once }} (
    select
        {{ payload_list }},
        cast(e.{{ s.updated_at }} as {{ ts }}) as stw_event_at,
        cast(e.{{ s.loaded_at }} as {{ ts }}) as stw_loaded_at,
        {{ is_delete }} as stw_is_delete,
        {{ steward.scd2_hash(hashed_cols, hash_label) }} as stw_hash
    from source_data as e
    {%- if s.hard_deletes == 'ignore' %}
    where not {{ is_delete }}
    {%- endif %}
),
new_events as (
    select e.*
    from log_events as e
    left join {{ existing }} as t
        on {% for k in keys %}t.{{ k }} = e.{{ k }} and {% endfor %}not t.{{ m.is_deleted }}
        and t.{{ m.valid_from }} <= e.stw_event_at
        and (t.{{ m.valid_to }} is null or e.stw_event_at < t.{{ m.valid_to }})
    where case
        when e.stw_is_delete then t.{{ keys[0] }} is not null
        else t.{{ keys[0] }} is null or t.{{ m.row_hash }} <> e.stw_hash
    end
),
{% else %}
{%- if existing is not none %}
{#- One join of the source with the current versions finds the keys whose row may differ (a new
    key, a deleted one, a moved updated_at or, check strategy, other tracked values) and carries
    what the later steps need from their current version, so the history is read once. #}
current_versions as {{ inline }} (
    select
        {% for k in keys %}t.{{ k }}, {% endfor %}
        {%- if s.strategy == 'timestamp' %}t.{{ s.updated_at }}, {% endif %}
        t.{{ m.valid_from }}, t.{{ m.is_deleted }}, t.{{ m.row_hash }}
    from {{ existing }} as t
    where t.{{ m.is_current }}
),
{%- if watermarked %}
{#- Past the watermark the source is a few rows: only their keys' current versions are read, by a semi
    join the engine drives from those rows. #}
candidate_versions as (
    select * from current_versions as t
    where exists (
        select 1 from source_data as n
        where {% for k in keys %}n.{{ k }} = t.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
),
{%- endif %}
{#- One row per candidate source row (not per key: a duplicate key's copies all rank the same). #}
candidate_keys as (
    select
        {% for k in keys %}src.{{ k }}, {% endfor %}
        cur.{{ keys[0] }} is not null as stw_has_current,
        cur.{{ m.is_deleted }} as stw_current_deleted,
        cur.{{ m.valid_from }} as stw_current_from,
        cur.{{ m.row_hash }} as stw_current_hash
        {%- if s.strategy == 'timestamp' %},
        cur.{{ s.updated_at }} as stw_current_updated_at
        {%- endif %}
    from source_data as src
    left join {{ 'candidate_versions' if watermarked else 'current_versions' }} as cur
        on {% for k in keys %}cur.{{ k }} = src.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    where cur.{{ keys[0] }} is null
        or cur.{{ m.is_deleted }}
        {%- if s.strategy == 'timestamp' %}
        or not (cur.{{ s.updated_at }} = src.{{ s.updated_at }})
        or cur.{{ s.updated_at }} is null
        or src.{{ s.updated_at }} is null
        {%- else %}
        or {{ steward.scd2_hash(src_tracked, hash_label) }} <> cur.{{ m.row_hash }}
        {%- endif %}
),
{%- endif %}
{#- Only the source rows of candidate keys are deduplicated. #}
source_rows as (
    select * from (
        select
            {% for c in s.payload %}t.{{ c }}, {% endfor %}
            {%- if existing is not none %}
            a.stw_has_current, a.stw_current_deleted, a.stw_current_from, a.stw_current_hash,
            {%- if s.strategy == 'timestamp' %} a.stw_current_updated_at,{% endif %}
            {%- endif %}
            row_number() over (
                partition by {% for k in keys %}t.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %}
                {#- Latest wins; exact ties are broken by the values themselves, the same on every engine. #}
                order by {% if s.updated_at %}t.{{ s.updated_at }} desc nulls last, {% endif %}
                    {%- for c in s.tracked %} t.{{ c }} desc nulls last{% if not loop.last %},{% endif %}{% endfor %}
            ) as stw_rank
        from source_data as t
        {%- if existing is not none %}
        inner join candidate_keys as a on {{ key_match }}
        {%- endif %}
    ) ranked
    where stw_rank = 1
),
{%- if existing is none %}
new_events as (
    select
        {% for c in s.payload %}src.{{ c }}, {% endfor %}
        {{ ('cast(src.' ~ s.updated_at ~ ' as ' ~ ts ~ ')') if s.strategy == 'timestamp' else steward.run_timestamp() }} as stw_event_at,
        {{ steward.run_timestamp() }} as stw_loaded_at,
        false as stw_is_delete
    from source_rows as src
),
{%- else %}
source_events as {{ once }} (
    select
        src.*,
        {%- if s.strategy == 'timestamp' %}
        case
            when src.stw_current_from is null or cast(src.{{ s.updated_at }} as {{ ts }}) > src.stw_current_from
                then cast(src.{{ s.updated_at }} as {{ ts }})
            {#- A change whose updated_at is not after the current version: record it when it was seen. #}
            else {{ steward.run_timestamp() }}
        end as stw_event_at,
        {%- else %}
        {{ steward.run_timestamp() }} as stw_event_at,
        {%- endif %}
        {{ steward.scd2_hash(src_tracked, hash_label) }} as stw_hash
    from source_rows as src
),
{#- A key's new row is an event unless it hashes like its live current version (a no-op
    update). The fast path takes the events that simply follow a live current version. #}
new_events as (
    select
        {% for c in s.payload %}e.{{ c }}, {% endfor %}
        e.stw_event_at,
        {{ steward.run_timestamp() }} as stw_loaded_at,
        false as stw_is_delete,
        e.stw_hash,
        e.stw_has_current and not e.stw_current_deleted and e.stw_event_at > e.stw_current_from as stw_fast,
        e.stw_current_from
    from source_events as e
    where not e.stw_has_current
        or e.stw_current_deleted
        {%- if s.strategy == 'timestamp' %}
        or case
            when e.stw_current_updated_at = e.{{ s.updated_at }} then false
            else e.stw_hash <> e.stw_current_hash
        end
        {%- else %}
        or e.stw_hash <> e.stw_current_hash
        {%- endif %}
    {%- if s.hard_deletes != 'ignore' %}
    union all
    select
        {% for c in s.payload %}{{ ('cur.' ~ c) if c in keys else 'null' }}, {% endfor %}
        {{ steward.run_timestamp() }},
        {{ steward.run_timestamp() }},
        true,
        null,
        false,
        null
    from current_versions as cur
    where not cur.{{ m.is_deleted }}
        and not exists (
            select 1 from {{ 'source_keys' if watermarked else 'source_data' }} as src
            where {% for k in keys %}src.{{ k }} = cur.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
    {%- endif %}
),
{%- endif %}
{% endif %}

{%- if existing is not none %}
{#- A key's history is re-stitched from its first new event on: stored versions that end
    before it cannot change and are neither read nor rewritten. #}
{%- if fast_path %}
fast_events as (
    select * from new_events where stw_fast
),
restitched_events as (
    select {{ payload_list }}, stw_event_at, stw_loaded_at, stw_is_delete
        {%- if s.changelog_watermark %}, stw_late{% endif %}
    from new_events where not stw_fast
),
{%- set restitched = 'restitched_events' %}
{%- else %}
{%- set restitched = 'new_events' %}
{%- endif %}
affected_keys as (
    select {{ partition }}, min(stw_event_at) as stw_window_start
        {%- if s.changelog_watermark %},
        max(case when stw_late then 1 else 0 end) = 1 as stw_late
        {%- endif %}
    from {{ restitched }}
    group by {{ partition }}
),
{%- if s.source_kind == 'changelog' and not s.changelog_watermark %}
{#- Every event of an affected key from its first unknown one on, known ones too: a late event can
    make a later event that had collapsed into its predecessor a change again. #}
window_events as (
    select {% for c in s.payload %}e.{{ c }}, {% endfor %}e.stw_event_at, e.stw_loaded_at, e.stw_is_delete
    from log_events as e
    inner join affected_keys as a
        on {% for k in keys %}a.{{ k }} = e.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    where e.stw_event_at >= a.stw_window_start
),
{%- set restitched = 'window_events' %}
{%- elif s.changelog_watermark %}
{#- A late key's events loaded before the watermark, from its first new event on, join its new ones
    as the re-stitch above does without loaded_at; only late keys are read back, so a run without
    late events reads nothing more. #}
window_events as (
    select {{ payload_list }}, stw_event_at, stw_loaded_at, stw_is_delete
    from restitched_events
    union all
    select
        {% for c in s.payload %}e.{{ c }}, {% endfor %}
        cast(e.{{ s.updated_at }} as {{ ts }}),
        cast(e.{{ s.loaded_at }} as {{ ts }}),
        {{ is_delete }}
    from source_data as e
    inner join affected_keys as a
        on {% for k in keys %}a.{{ k }} = e.{{ k }} and {% endfor %}a.stw_late
    where cast(e.{{ s.loaded_at }} as {{ ts }}) <= {{ s.since }}
        and cast(e.{{ s.updated_at }} as {{ ts }}) >= a.stw_window_start
),
{%- set restitched = 'window_events' %}
{%- endif %}

all_events as (
    select
        {{ payload_list }}, stw_event_at, stw_loaded_at, stw_is_delete, false as stw_is_stored,
        cast(null as {{ steward.scd2_hash_type() }}) as stw_stored_scd_id,
        cast(null as {{ ts }}) as stw_stored_valid_to,
        cast(null as {{ steward.scd2_hash_type() }}) as stw_stored_hash
    from {{ restitched }}
    union all
    select
        {% for c in s.payload %}t.{{ c }}, {% endfor %}
        t.{{ m.valid_from }}, t.{{ m.loaded_at }}, t.{{ m.is_deleted }}, true,
        t.{{ m.scd_id }}, t.{{ m.valid_to }}, t.{{ m.row_hash }}
    from {{ existing }} as t
    inner join affected_keys as a on {{ key_match }}
    where t.{{ m.valid_to }} is null or t.{{ m.valid_to }} > a.stw_window_start
    {%- if s.hard_deletes == 'invalidate' %}
    union all
    {#- A version closed with no successor starting at that instant was closed by a delete. #}
    select
        {% for c in s.payload %}{{ ('t.' ~ c) if c in keys else 'null' }}, {% endfor %}
        t.{{ m.valid_to }}, t.{{ m.loaded_at }}, true, true, null, null, null
    from {{ existing }} as t
    inner join affected_keys as a on {{ key_match }}
    where not t.{{ m.is_current }}
        and t.{{ m.valid_to }} > a.stw_window_start
        and not exists (
            select 1 from {{ existing }} as n
            where {% for k in keys %}n.{{ k }} = t.{{ k }} and {% endfor %}n.{{ m.valid_from }} = t.{{ m.valid_to }}
        )
    {%- endif %}
),
{%- else %}
all_events as (
    select {{ payload_list }}, stw_event_at, stw_loaded_at, stw_is_delete, false as stw_is_stored
    from new_events
),
{%- endif %}

hashed as (
    select e.*, {{ steward.scd2_hash(hashed_cols, hash_label) }} as stw_hash
    from all_events as e
    {%- if s.hard_deletes == 'ignore' %}
    where not e.stw_is_delete
    {%- endif %}
),

one_per_instant as (
    select * from (
        select
            hashed.*,
            row_number() over (
                partition by {{ partition }}, stw_event_at
                {#- An event equal to the stored version at its instant leaves that version in place. #}
                order by stw_loaded_at desc, stw_is_delete desc, stw_hash desc, stw_is_stored desc
            ) as stw_rank
        from hashed
    ) ranked
    where stw_rank = 1
),

compared as (
    select
        one_per_instant.*,
        lag(stw_hash) over (partition by {{ partition }} order by stw_event_at) as stw_previous_hash,
        lag(stw_is_delete) over (partition by {{ partition }} order by stw_event_at) as stw_previous_delete
    from one_per_instant
),

kept as (
    select * from compared
    {#- The first event of a re-stitched window that is already a version stays one: its real
        predecessor lies before the window and was compared when it was stored. #}
    where (stw_previous_delete is null and stw_is_stored)
        or (stw_previous_delete is null and not stw_is_delete)
        or (stw_previous_delete is not null and stw_is_delete <> stw_previous_delete)
        or (not stw_is_delete and stw_hash <> stw_previous_hash)
),

versions as (
    select
        kept.*,
        lead(stw_event_at) over (partition by {{ partition }} order by stw_event_at) as stw_next_at
    from kept
)

{%- set valid_to_expression -%}
    {%- if s.far_future -%}
    coalesce(v.stw_next_at, cast('{{ s.far_future }}' as {{ ts }}))
    {%- else -%}
    v.stw_next_at
    {%- endif -%}
{%- endset %}
{%- if existing is none %}
select
    {% for c in s.payload %}v.{{ c }}, {% endfor %}
    {{ steward.scd2_hash(versioned_keys + ['v.stw_event_at']) }} as {{ m.scd_id }},
    v.stw_event_at as {{ m.valid_from }},
    {{ valid_to_expression }} as {{ m.valid_to }},
    v.stw_next_at is null as {{ m.is_current }},
    v.stw_is_delete as {{ m.is_deleted }},
    v.stw_hash as {{ m.row_hash }},
    v.stw_loaded_at as {{ m.loaded_at }}
from versions as v
{%- if s.hard_deletes == 'invalidate' %}
where not v.stw_is_delete
{%- endif %}
{%- else %}
{#- What the merge must do, decided here so that it never scans the whole history:
    insert a new version, update a stored one whose window changed, replace one whose values
    changed under the same scd_id, delete stored versions the re-stitch dropped. #}
, decided as (
    select
        v.*,
        {{ valid_to_expression }} as stw_valid_to,
        case
            when v.stw_stored_scd_id is null then 'insert'
            when v.stw_hash <> v.stw_stored_hash then 'replace'
            when {{ valid_to_expression }} = v.stw_stored_valid_to then 'keep'
            when v.stw_next_at is null and v.stw_stored_valid_to is null then 'keep'
            else 'update'
        end as stw_action
    from versions as v
    {%- if s.hard_deletes == 'invalidate' %}
    where not v.stw_is_delete
    {%- endif %}
)

select
    {% for c in s.payload %}d.{{ c }}, {% endfor %}
    {{ steward.scd2_hash(decided_keys + ['d.stw_event_at']) }} as {{ m.scd_id }},
    d.stw_event_at as {{ m.valid_from }},
    d.stw_valid_to as {{ m.valid_to }},
    d.stw_next_at is null as {{ m.is_current }},
    d.stw_is_delete as {{ m.is_deleted }},
    d.stw_hash as {{ m.row_hash }},
    d.stw_loaded_at as {{ m.loaded_at }},
    d.stw_action
from decided as d
where d.stw_action <> 'keep'
union all
select
    {% for c in s.payload %}{{ ('e.' ~ c) if c in keys else 'null' }}, {% endfor %}
    e.stw_stored_scd_id, null, null, null, null, null, null, 'delete'
from all_events as e
where e.stw_stored_scd_id is not null
    and not exists (
        select 1 from versions as v
        where v.stw_stored_scd_id = e.stw_stored_scd_id
            {%- for k in keys %} and v.{{ k }} = e.{{ k }}{% endfor %}
            {%- if s.hard_deletes == 'invalidate' %} and not v.stw_is_delete{% endif %}
    )
{%- if fast_path %}
union all
select
    {% for c in s.payload %}f.{{ c }}, {% endfor %}
    {{ steward.scd2_hash(fast_keys + ['f.stw_event_at']) }},
    f.stw_event_at,
    cast({{ ("'" ~ s.far_future ~ "'") if s.far_future else 'null' }} as {{ ts }}),
    true, false, f.stw_hash, f.stw_loaded_at, 'insert'
from fast_events as f
union all
select
    {% for c in s.payload %}{{ ('f.' ~ c) if c in keys else 'null' }}, {% endfor %}
    {#- The merge finds a version to update by key and valid_from. #}
    null, f.stw_current_from, f.stw_event_at, false, null, null, null, 'update'
from fast_events as f
{%- endif %}
{%- endif %}
{%- endmacro %}

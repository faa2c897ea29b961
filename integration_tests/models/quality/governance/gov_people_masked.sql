-- steward.mask under every strategy; the output column email is tagged pii in governance.yml.
{%- set email_meta = (model.columns.get('email') or {}).get('meta') or {} %}
select
    person_id,
    {{ steward.mask('email', 'hash', column_meta=email_meta) }} as email,
    {{ steward.mask('email', 'redact') }} as email_redacted,
    {{ steward.mask('email', 'partial') }} as email_partial,
    {{ steward.mask('notes', 'partial') }} as notes_partial,
    {{ steward.mask('person_id', 'null') }} as person_id_null,
    {{ steward.mask('notes', 'redact', column_meta={'pii': false}) }} as notes_redacted,
    {{ steward.mask('notes', 'redact', force=true) }} as notes_redacted_forced
from {{ ref('gov_people_seed') }}

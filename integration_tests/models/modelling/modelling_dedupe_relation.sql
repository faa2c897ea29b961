-- steward.dedupe on a Relation: the columns are read from the warehouse.
{{ steward.dedupe(ref('modelling_dedupe_input'), ['id', 'region'], 'updated_at desc, loaded_at desc') }}

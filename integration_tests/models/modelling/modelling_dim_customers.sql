-- The customer dimension plus its unknown member (key -1 from the setting), columns read from the warehouse.
{{ steward.with_unknown_member(ref('modelling_customers'), 'customer_id') }}

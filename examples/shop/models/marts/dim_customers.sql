-- Current customers plus the unknown member (customer_id -1), so facts can inner-join:
-- an order whose customer is missing maps to it (see fct_orders.customer_key).
{{ steward.with_unknown_member(ref('int_customers_current'), 'customer_id', attributes={'is_deleted': 'false'}) }}

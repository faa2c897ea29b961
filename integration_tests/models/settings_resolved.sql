-- One row per setting as the package resolves it, overridden or default.
select
    'scorecard_runs' as setting_key,
    '{{ steward.setting("scorecard_runs") }}' as setting_value
union all
select
    'identifier_pattern' as setting_key,
    '{{ steward.setting("identifier_pattern") }}' as setting_value
union all
select
    'validated_identifier' as setting_key,
    '{{ steward.validate_identifier("order_id", "integration test") }}' as setting_value

"""The integration_tests project, built once per adapter: the package's macros on real warehouses."""

from __future__ import annotations

from harness import dbt_error_text


def test_build_succeeds_on_every_node(integration_project):
    result = integration_project.build_result
    assert result.success, result.exception
    statuses = {r.node.unique_id: str(r.status) for r in result.result.results}
    assert statuses, "the build ran no node"
    assert set(statuses.values()) <= {"success", "pass"}, statuses


def test_setting_reads_project_override_and_package_default(integration_project):
    rows = dict(integration_project.warehouse.query(
        f"select setting_key, setting_value from {integration_project.warehouse.schema_prefix}.settings_resolved"))
    assert rows["scorecard_runs"] == "20"  # overridden in integration_tests/dbt_project.yml
    assert rows["identifier_pattern"] == "^[A-Za-z_][A-Za-z0-9_]*$"  # the package default


def test_validate_identifier_rejects_sql_injection(integration_project):
    result = integration_project.dbt(
        "run-operation", "steward.validate_identifier",
        "--args", '{value: "x\\"; drop table t; --", field: "unique_key"}',
        expect_success=False,
    )
    assert "unique_key must be an identifier" in dbt_error_text(result)


def test_setting_rejects_unknown_key(integration_project):
    result = integration_project.dbt(
        "run-operation", "steward.setting", "--args", "{key: rollback_shema}", expect_success=False)
    assert "unknown key 'rollback_shema'" in dbt_error_text(result)

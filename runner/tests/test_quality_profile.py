"""steward's column_profile test (many column checks in one scan), declared on the hand-made
fixture in integration_tests/models/quality/profile/ and built on real DuckDB and PostgreSQL.

Every fixture is a passing test or an expected failure whose error_if/warn_if "!=N" make it pass
only with exactly N failing (column, check) rows; the failing rows are stored (store_failures)
and their context columns checked here."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from harness import dbt_error_text

# test name -> the exact number of failing (column, check) rows it returns (0: the passing fixtures)
EXPECTED_FAILURES = {
    "profile_column_profile_pass": 0,
    "profile_column_profile_where_pass": 0,
    "profile_column_profile_empty_pass": 0,
    "profile_column_profile_fail": 8,
    "profile_column_profile_group_fail": 4,
}

CONTEXT = ("steward_column", "steward_check", "steward_actual", "steward_expected", "failing_rows", "row_count")


def plain(value: object) -> object:
    """Integers stay integers; other numbers become floats, whatever the driver returned."""
    return float(value) if isinstance(value, Decimal) else value


def sort_key(row: tuple[object, ...]) -> list[tuple[bool, str]]:
    return [(value is None, str(value)) for value in row]


def profile_results(project) -> dict[str, object]:
    return {r.node.name: r for r in project.build_result.result.results
            if r.node.resource_type == "test" and r.node.name.startswith("profile_")}


def stored_rows(project, test_name: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    relation = profile_results(project)[test_name].node.relation_name
    assert relation, f"{test_name} has no store_failures relation"
    rows = project.warehouse.query(f"select {', '.join(columns)} from {relation}")
    return sorted((tuple(plain(v) for v in row) for row in rows), key=sort_key)


@pytest.mark.parametrize("test_name", sorted(EXPECTED_FAILURES))
def test_fixture_returns_exact_failing_row_count(integration_project, test_name):
    """A pass proves the count (inverted thresholds); the stored rows of expected failures are counted too,
    since a passing inverted test reports failures=0."""
    results = profile_results(integration_project)
    assert test_name in results, f"{test_name} did not run"
    result = results[test_name]
    assert str(result.status) == "pass", (test_name, result.status, result.message)
    expected = EXPECTED_FAILURES[test_name]
    config = result.node.config
    if expected == 0:
        assert config.error_if == "!= 0" and not config.store_failures, test_name
        assert result.failures == 0, test_name
    else:
        assert config.error_if == config.warn_if == f"!={expected}" and config.store_failures, test_name
        count = integration_project.warehouse.scalar(f"select count(*) from {result.node.relation_name}")
        assert count == expected, (test_name, count)


def test_every_profile_fixture_is_listed_and_meta_merges(integration_project):
    results = profile_results(integration_project)
    assert set(results) == set(EXPECTED_FAILURES)
    for name, result in results.items():
        assert result.node.test_metadata.namespace == "steward", name
        assert result.node.test_metadata.name == "column_profile", name
        assert result.node.config.meta.get("steward_dimension") == "validity", name
    assert results["profile_column_profile_pass"].node.config.meta == {
        "steward_dimension": "validity", "owner": "profile_fixtures"}


def test_failing_checks_one_row_each_with_context(integration_project):
    # checks that pass in the same test (customer_id not_null_proportion, email not_null_proportion
    # at exactly 0.75, signup_date max_value) return no row
    assert stored_rows(integration_project, "profile_column_profile_fail", CONTEXT) == [
        ("age", "max_value", "130", "<= 120", 1, 8),
        ("age", "min_value", "0", ">= 18", 1, 8),
        ("age", "not_null_proportion", "0.875000", ">= 1", 1, 8),
        ("amount", "min_value", "-3.00", ">= 0", 1, 8),
        ("customer_id", "distinct_count_between", "8", "between 1 and 5 distinct values", None, 8),
        ("email", "matches_pattern", "carl@example", "matches preset email", 2, 8),
        ("signup_date", "min_value", "2023-12-31", ">= 2024-01-01", 1, 8),
        ("status", "accepted_values", "legacy", "one of active, churned", 2, 8),
    ]


def test_group_by_gives_one_row_per_failing_group_column_and_check(integration_project):
    assert stored_rows(integration_project, "profile_column_profile_group_fail", ("region", *CONTEXT)) == [
        ("east", "email", "not_null_proportion", "0.666667", ">= 0.7", 1, 3),
        ("east", "status", "accepted_values", "paused", "one of active", 1, 3),
        ("south", "email", "not_null_proportion", "0.666667", ">= 0.7", 1, 3),
        ("south", "status", "accepted_values", "churned", "one of active", 2, 3),
    ]


def test_compiled_sql_reads_the_model_in_a_counts_pass_and_a_gated_details_pass(integration_project):
    """The model is named in exactly two FROMs whatever the number of checks: the counts and the details."""
    compiled = profile_results(integration_project)["profile_column_profile_fail"].node.compiled_code
    assert compiled.count("profile_customers") == 2, compiled
    assert "steward_counts as (" in compiled and "steward_details as (" in compiled, compiled


def details_pass_reads(project, test_name: str) -> list[int]:
    """Per scan of profile_customers in the details pass of the test's executed plan: the rows that got past
    the gate. PostgreSQL: the scans outside the materialized steward_counts CTE, rows per loop (0 for a scan
    that is never executed); DuckDB: the scans whose parent joins them to the gate (DuckDB's scan
    may read its first vector before the empty gate ends it), the rows that join emitted."""
    sql = profile_results(project)[test_name].node.compiled_code
    [plan] = project.warehouse.query(f"explain (analyze, format json) {sql}")
    if project.adapter == "postgres":
        [root] = plan[0] if isinstance(plan[0], list) else json.loads(plan[0])

        def walk_postgres(node: dict[str, Any], in_counts: bool) -> list[int]:
            in_counts = in_counts or node.get("Subplan Name") == "CTE steward_counts"
            own = ([node["Actual Rows"] if node["Actual Loops"] else 0]
                   if not in_counts and node.get("Relation Name") == "profile_customers" else [])
            return own + [rows for child in node.get("Plans", []) for rows in walk_postgres(child, in_counts)]

        return walk_postgres(root["Plan"], False)

    def walk_duckdb(node: dict[str, Any]) -> list[int]:
        own = [node["intermediate_rows"] for child in node.get("children", [])
               if ("JOIN" in node["type"] or node["type"] == "CROSS_PRODUCT") and child["type"] == "TABLE_SCAN"
               and str(child["extra_info"].get("Table", "")).endswith(".profile_customers")]
        return own + [rows for child in node.get("children", []) for rows in walk_duckdb(child)]

    profile = json.loads(plan[1])
    return [rows for root in profile.get("operator", []) for rows in walk_duckdb(root)]


def test_passing_profile_never_reads_rows_into_its_details_pass(integration_project):
    """Executed plans: the details scan of a passing profile, gated on a failed row-level check, lets no
    row through (PostgreSQL: it is never executed); a failing profile's lets the model's 8 rows through."""
    assert details_pass_reads(integration_project, "profile_column_profile_pass") == [0]
    assert details_pass_reads(integration_project, "profile_column_profile_fail") == [8]


@pytest.mark.parametrize(("checks", "message"), [
    ("{email: {not_null: 1}}",
     'steward.column_profile: checks.email.not_null: unknown check "not_null"; known checks:'),
    ("{age: {not_null_proportion: 1.5}}",
     "steward.column_profile: checks.age.not_null_proportion must be a number >= 0 and <= 1, got 1.5"),
    ("{age: {min_value: true}}",
     "steward.column_profile: checks.age.min_value must be a number or a string, got true"),
    ("{status: {accepted_values: active}}",
     "steward.column_profile: checks.status.accepted_values must be a non-empty list of numbers or strings"),
    ("{status: {distinct_count_between: 3}}",
     "steward.column_profile: checks.status.distinct_count_between must be a list [min, max]"),
    ("{status: {distinct_count_between: [5, 2]}}",
     "steward.column_profile: checks.status.distinct_count_between min (5) is greater than max (2)"),
    ("{email: {matches_pattern: {preset: ssn}}}",
     'steward.column_profile: checks.email.matches_pattern: unknown preset "ssn"'),
    ("{email: {matches_pattern: 42}}",
     "steward.column_profile: checks.email.matches_pattern must be a non-empty regular expression string, got 42"),
    ("{email: [not_null_proportion]}",
     "steward.column_profile: checks.email must be a non-empty mapping of check names to arguments"),
    ('{"x) or (1=1": {min_value: 1}}', "column_profile checks column must be an identifier"),
    ("[email]", "steward.column_profile: checks must be a non-empty mapping of column names"),
])
def test_invalid_checks_fail_compilation_naming_column_and_check(integration_project, checks, message):
    result = integration_project.dbt("run-operation", "steward.default__test_column_profile",
                                     "--args", f"{{model: m, checks: {checks}}}", expect_success=False)
    assert message in dbt_error_text(result)

"""steward's completeness, uniqueness, validity and accuracy tests, declared on hand-made
fixtures in integration_tests/models/quality/core/ and built on real DuckDB and PostgreSQL.

Every test has a passing fixture and an expected failure whose error_if/warn_if "!=N" make it
pass only with exactly N failing rows; the failing rows are stored (store_failures) and their
context columns checked here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from harness import dbt_error_text

# test name -> the exact number of failing rows it returns (0: the passing fixtures)
EXPECTED_FAILURES = {
    "core_not_null_proportion_pass": 0,
    "core_not_null_proportion_where_pass": 0,
    "core_not_null_proportion_empty_pass": 0,
    "core_not_null_proportion_group_fail": 2,
    "core_row_count_between_pass": 0,
    "core_row_count_between_group_pass": 0,
    "core_row_count_between_fail": 1,
    "core_row_count_between_group_fail": 3,
    "core_not_empty_pass": 0,
    "core_not_empty_fail": 1,
    "core_not_empty_where_fail": 1,
    "core_no_gaps_where_pass": 0,
    "core_no_gaps_week_pass": 0,
    "core_no_gaps_sequence_pass": 0,
    "core_no_gaps_fail": 2,
    "core_no_gaps_group_fail": 3,
    "core_no_gaps_month_fail": 3,
    "core_no_gaps_sequence_fail": 3,
    "core_unique_combination_pass": 0,
    "core_unique_combination_distinct_fail": 1,
    "core_unique_combination_equal_fail": 3,
    "core_primary_key_pass": 0,
    "core_primary_key_fail": 5,
    "core_accepted_range_pass": 0,
    "core_accepted_range_where_pass": 0,
    "core_accepted_range_fail": 1,
    "core_accepted_range_exclusive_fail": 2,
    "core_accepted_values_proportion_pass": 0,
    "core_accepted_values_proportion_fail": 1,
    "core_string_length_between_pass": 0,
    "core_string_length_between_fail": 2,
    "core_is_null_where_pass": 0,
    "core_is_null_fail": 2,
    "core_matches_pattern_email_pass": 0,
    "core_matches_pattern_email_fail": 3,
    "core_matches_pattern_uuid_pass": 0,
    "core_matches_pattern_uuid_fail": 2,
    "core_matches_pattern_iso_date_pass": 0,
    "core_matches_pattern_iso_date_fail": 3,
    "core_matches_pattern_phone_pass": 0,
    "core_matches_pattern_phone_fail": 3,
    "core_matches_pattern_url_pass": 0,
    "core_matches_pattern_url_fail": 3,
    "core_matches_pattern_custom_pass": 0,
    "core_matches_pattern_custom_fail": 2,
    "core_expression_is_true_pass": 0,
    "core_expression_is_true_fail": 2,
    "core_expression_is_true_group_where_pass": 0,
    "core_expression_is_true_group_fail": 2,
    "core_reconciles_with_self_pass": 0,
    "core_reconciles_with_total_pass": 0,
    "core_reconciles_with_relative_total_pass": 0,
    "core_reconciles_with_total_fail": 1,
    "core_reconciles_with_group_fail": 3,
    "core_reconciles_with_relative_group_fail": 2,
}

DIMENSIONS = {
    "not_null_proportion": "completeness", "row_count_between": "completeness", "not_empty": "completeness",
    "no_gaps": "completeness", "unique_combination": "uniqueness", "primary_key": "uniqueness",
    "accepted_range": "validity", "matches_pattern": "validity", "accepted_values_proportion": "validity",
    "string_length_between": "validity", "is_null": "validity", "expression_is_true": "accuracy",
    "reconciles_with": "accuracy",
}


# --- helpers -------------------------------------------------------------------------------------

def core_results(project) -> dict[str, object]:
    return {r.node.name: r for r in project.build_result.result.results
            if r.node.resource_type == "test" and r.node.name.startswith("core_")}


def plain(value: object) -> object:
    """Numbers as float and dates as dates, whatever type the adapter's driver returned."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    return value


def failing_rows(project, test_name: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    """The stored failing rows of a test, selected columns only, in a stable order."""
    relation = core_results(project)[test_name].node.relation_name
    assert relation, f"{test_name} has no store_failures relation"
    rows = project.warehouse.query(f"select {', '.join(columns)} from {relation}")
    return sorted((tuple(plain(v) for v in row) for row in rows), key=sort_key)


def sort_key(row: tuple[object, ...]) -> list[tuple[bool, bool, object]]:
    """Numbers numerically, everything else as text, NULLs last."""
    numeric = (int, float)
    return [(value is None, not isinstance(value, numeric), value if isinstance(value, numeric) else str(value))
            for value in row]


def stored_column_names(project, test_name: str) -> list[str]:
    """The columns of a test's stored failing rows, in order."""
    relation = core_results(project)[test_name].node.relation_name
    if project.adapter == "spark":
        from harness import spark_session

        return list(spark_session().sql(f"select * from {relation} limit 0").columns)
    if project.adapter == "duckdb":
        import duckdb

        with duckdb.connect(str(project.warehouse.duckdb_path)) as connection:
            return [d[0] for d in connection.execute(f"select * from {relation} limit 0").description]
    import psycopg2
    from harness import pg_settings

    with psycopg2.connect(**pg_settings()) as connection, connection.cursor() as cursor:
        cursor.execute(f"select * from {relation} limit 0")
        return [d[0] for d in cursor.description]


def day(n: int, month: int = 1, year: int = 2024) -> dt.date:
    return dt.date(year, month, n)


# --- every fixture ---------------------------------------------------------------------------------

@pytest.mark.parametrize("test_name", sorted(EXPECTED_FAILURES))
def test_fixture_returns_exact_failing_row_count(integration_project, test_name):
    """A pass proves the count: passing fixtures fail on any row, expected failures on any
    count but N. The stored failing rows of the expected failures are counted as well."""
    results = core_results(integration_project)
    assert test_name in results, f"{test_name} did not run"
    result = results[test_name]
    assert str(result.status) == "pass", (test_name, result.status, result.message)
    expected = EXPECTED_FAILURES[test_name]
    config = result.node.config
    if expected == 0:
        assert config.error_if == "!= 0" and not config.store_failures, test_name
    else:
        assert config.error_if == config.warn_if == f"!={expected}" and config.store_failures, test_name
        count = integration_project.warehouse.scalar(f"select count(*) from {result.node.relation_name}")
        assert count == expected, (test_name, count)


def test_every_core_fixture_is_listed(integration_project):
    assert set(core_results(integration_project)) == set(EXPECTED_FAILURES)
    tested = {r.node.test_metadata.name for r in core_results(integration_project).values()}
    assert tested == set(DIMENSIONS)  # every generic test has fixtures


def test_dimension_meta_reaches_the_node_and_merges_with_user_meta(integration_project):
    for name, result in core_results(integration_project).items():
        meta = result.node.config.meta
        assert result.node.test_metadata.namespace == "steward", name
        assert meta.get("steward_dimension") == DIMENSIONS[result.node.test_metadata.name], (name, meta)
    user = core_results(integration_project)["core_not_empty_pass"].node.config.meta
    assert user == {"steward_dimension": "completeness", "owner": "core_fixtures"}


# --- completeness ----------------------------------------------------------------------------------

def test_not_null_proportion_context(integration_project):
    assert stored_column_names(integration_project, "core_not_null_proportion_group_fail") == [
        "region", "steward_actual", "steward_expected", "row_count", "null_count"]
    assert failing_rows(integration_project, "core_not_null_proportion_group_fail",
                        ("region", "steward_actual", "steward_expected", "row_count", "null_count")) == [
        ("north", 0.666667, ">= 0.7", 3, 1),
        ("south", 0.333333, ">= 0.7", 3, 2),
    ]


def test_row_count_between_context(integration_project):
    columns = ("row_count", "min_value", "max_value", "steward_expected")
    assert failing_rows(integration_project, "core_row_count_between_fail", columns) == [(7, None, 5, "<= 5")]
    assert failing_rows(integration_project, "core_row_count_between_group_fail", ("region", *columns)) == [
        ("east", 1, 2, 2, "between 2 and 2"),
        ("north", 3, 2, 2, "between 2 and 2"),
        ("south", 3, 2, 2, "between 2 and 2"),
    ]


def test_not_empty_context(integration_project):
    for name in ("core_not_empty_fail", "core_not_empty_where_fail"):
        assert failing_rows(integration_project, name, ("steward_actual", "steward_expected")) == [
            (0, "at least 1 row")]


def test_no_gaps_missing_dates_values_and_groups(integration_project):
    columns = ("steward_missing_value", "steward_range_start", "steward_range_end")
    assert failing_rows(integration_project, "core_no_gaps_fail", columns) == [
        (day(6), day(1), day(8)), (day(7), day(1), day(8))]
    assert failing_rows(integration_project, "core_no_gaps_group_fail", ("source", *columns)) == [
        ("a", day(3), day(1), day(8)), ("a", day(6), day(1), day(8)), ("a", day(7), day(1), day(8))]
    # month granularity over an explicit range: November, December and February have no row
    assert failing_rows(integration_project, "core_no_gaps_month_fail", columns) == [
        (day(1, 11, 2023), day(1, 11, 2023), day(1, 2)),
        (day(1, 12, 2023), day(1, 11, 2023), day(1, 2)),
        (day(1, 2), day(1, 11, 2023), day(1, 2)),
    ]
    assert failing_rows(integration_project, "core_no_gaps_sequence_fail", (*columns, "steward_expected")) == [
        (30, 10, 80, "every value from range start to range end in steps of 10"),
        (60, 10, 80, "every value from range start to range end in steps of 10"),
        (70, 10, 80, "every value from range start to range end in steps of 10"),
    ]


# --- uniqueness ------------------------------------------------------------------------------------

def test_unique_combination_null_modes(integration_project):
    columns = ("part_a", "part_b", "duplicate_count", "steward_expected")
    assert failing_rows(integration_project, "core_unique_combination_distinct_fail", columns) == [
        ("a", 1, 2, "unique (nulls distinct)")]
    assert failing_rows(integration_project, "core_unique_combination_equal_fail", columns) == [
        ("a", 1, 2, "unique (nulls equal)"),
        ("b", None, 2, "unique (nulls equal)"),
        (None, None, 2, "unique (nulls equal)"),
    ]


def test_primary_key_reports_duplicates_and_nulls(integration_project):
    assert failing_rows(integration_project, "core_primary_key_fail",
                        ("part_a", "part_b", "steward_actual", "steward_expected")) == [
        ("a", 1, "duplicate (2 rows)", "unique and not null"),
        ("b", None, "null in part_b", "unique and not null"),
        ("b", None, "null in part_b", "unique and not null"),
        (None, None, "null in part_a", "unique and not null"),
        (None, None, "null in part_a", "unique and not null"),
    ]


# --- validity --------------------------------------------------------------------------------------

def test_accepted_range_whole_row_or_key_columns(integration_project):
    whole_row = "core_accepted_range_fail"
    assert stored_column_names(integration_project, whole_row) == [
        "customer_id", "age", "email", "country_code", "status", "legacy_code", "steward_actual", "steward_expected"]
    assert failing_rows(integration_project, whole_row, ("customer_id", "steward_actual", "steward_expected")) == [
        (4, 130, "between 0 and 120 (inclusive)")]
    keyed = "core_accepted_range_exclusive_fail"
    assert stored_column_names(integration_project, keyed) == [
        "customer_id", "steward_actual", "steward_expected"]
    assert failing_rows(integration_project, keyed, ("customer_id", "steward_actual", "steward_expected")) == [
        (4, 130, "between 0 and 120 (exclusive)"), (5, 0, "between 0 and 120 (exclusive)")]


@pytest.mark.parametrize(("preset", "invalid"), [
    ("email", [(3, "bob@example"), (4, "no-at-sign.example.com"), (5, "x@y.c")]),
    ("uuid", [(9, "123e4567e89b12d3a456426614174000"), (10, "123e4567-e89b-12d3-a456-42661417400g")]),
    ("iso_date", [(12, "2024-13-01"), (13, "24-01-01"), (14, "2024-01-15T10:00:00")]),
    ("phone", [(17, "004915112345678"), (18, "+0123456789"), (19, "+49 151 1234")]),
    ("url", [(23, "ftp://example.com"), (24, "https://"), (25, "see https://example.com")]),
])
def test_matches_pattern_presets_agree_on_every_adapter(integration_project, preset, invalid):
    rows = failing_rows(integration_project, f"core_matches_pattern_{preset}_fail",
                        ("pattern_id", "steward_actual", "steward_expected"))
    assert rows == [(pattern_id, value, f"matches preset {preset}") for pattern_id, value in invalid]


def test_matches_pattern_custom_pattern_is_anchored(integration_project):
    assert failing_rows(integration_project, "core_matches_pattern_custom_fail",
                        ("pattern_id", "value", "steward_actual", "steward_expected")) == [
        (27, "ab-12", "ab-12", "matches pattern [A-Z]{2}-[0-9]{2}"),
        (28, "AB-123", "AB-123", "matches pattern [A-Z]{2}-[0-9]{2}"),  # a prefix match is not enough
    ]


def test_accepted_values_proportion_context(integration_project):
    assert failing_rows(integration_project, "core_accepted_values_proportion_fail",
                        ("steward_actual", "steward_expected", "row_count", "accepted_count",
                         "top_unexpected_values")) == [
        (0.6, ">= 0.9 of non-null values in the accepted list", 5, 3, "churned (1), legacy (1)")]


def test_string_length_between_context(integration_project):
    assert failing_rows(integration_project, "core_string_length_between_fail",
                        ("customer_id", "country_code", "steward_actual", "steward_expected")) == [
        (2, "FRA", 3, "length between 2 and 2"), (5, "N", 1, "length between 2 and 2")]


def test_is_null_context(integration_project):
    assert failing_rows(integration_project, "core_is_null_fail",
                        ("customer_id", "steward_actual", "steward_expected")) == [
        (4, "X1", "null"), (6, "X2", "null")]


# --- accuracy --------------------------------------------------------------------------------------

def test_expression_is_true_rows_and_groups(integration_project):
    # payment 4 has a NULL amount: unknown is not false, as in a CHECK constraint
    assert failing_rows(integration_project, "core_expression_is_true_fail",
                        ("payment_id", "region", "amount", "steward_expression")) == [
        (5, "east", 20.0, "amount >= 25"), (6, None, 5.0, "amount >= 25")]
    assert failing_rows(integration_project, "core_expression_is_true_group_fail",
                        ("region", "row_count", "steward_expression")) == [
        ("east", 1, "sum(amount) >= 30"), (None, 1, "sum(amount) >= 30")]


def test_reconciles_with_groups_missing_sides_and_tolerance(integration_project):
    columns = ("model_sum", "compare_sum", "difference", "tolerance", "model_row_count", "compare_row_count")
    assert failing_rows(integration_project, "core_reconciles_with_total_fail", columns) == [
        (205.0, 195.5, 9.5, 9, 6, 4)]
    # south is off by 0.50 (its NULL amount counts as 0), east exists only in the model, west
    # only in the totals; north and the NULL region reconcile
    assert failing_rows(integration_project, "core_reconciles_with_group_fail", ("region", *columns)) == [
        ("east", 20.0, 0.0, 20.0, 0, 1, 0),
        ("south", 30.0, 30.5, -0.5, 0, 2, 1),
        ("west", 0.0, 10.0, -10.0, 0, 0, 1),
    ]
    # 2% of 30.50 covers south's 0.50; nothing covers a group missing from the totals
    assert failing_rows(integration_project, "core_reconciles_with_relative_group_fail",
                        ("region", "difference", "tolerance", "steward_expected")) == [
        ("east", 20.0, 0.02, "abs(model_sum - compare_sum) <= 0.02 * abs(compare_sum)"),
        ("west", -10.0, 0.02, "abs(model_sum - compare_sum) <= 0.02 * abs(compare_sum)"),
    ]


# --- argument validation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("macro", "args", "message"), [
    ("default__test_not_null_proportion", "{model: m, column_name: email, at_least: 1.5}",
     "steward.not_null_proportion: at_least must be a number >= 0 and <= 1, got 1.5"),
    ("default__test_unique_combination", '{model: m, combination_of_columns: ["id", "x) or (1=1"]}',
     "unique_combination combination_of_columns must be an identifier"),
    ("default__test_matches_pattern", "{model: m, column_name: email, pattern: '.+', preset: email}",
     "steward.matches_pattern: give exactly one of pattern and preset"),
    ("default__test_matches_pattern", "{model: m, column_name: email, preset: ssn}",
     "steward.matches_pattern: unknown preset \"ssn\""),
    ("default__test_no_gaps", "{model: m, column_name: d, interval: year}",
     "steward.no_gaps: interval (one of 'day', 'week', 'month' or a positive integer step) must be an integer"),
    ("default__test_reconciles_with", "{model: m, compare_model: c, measure: amount, tolerance_kind: percent}",
     "steward.reconciles_with: tolerance_kind must be 'absolute' or 'relative'"),
    ("default__test_accepted_range", "{model: m, column_name: age}",
     "steward.accepted_range: give min_value, max_value or both"),
    ("default__test_row_count_between", "{model: m, min_value: 5, max_value: 2}",
     "steward.row_count_between: min_value (5) is greater than max_value (2)"),
])
def test_invalid_arguments_fail_compilation_naming_test_and_argument(integration_project, macro, args, message):
    result = integration_project.dbt("run-operation", f"steward.{macro}", "--args", args, expect_success=False)
    assert message in dbt_error_text(result)

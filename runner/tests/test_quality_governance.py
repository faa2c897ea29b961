"""steward's consistency, timeliness, schema and PII tests and the steward.mask macro, declared on
hand-made fixtures in integration_tests/models/quality/governance/ and built on real DuckDB and
PostgreSQL.

Every test has a passing fixture and an expected failure whose error_if/warn_if "!=N" make it
pass only with exactly N failing rows; the failing rows are stored (store_failures) and their
context columns checked here. Clock-dependent behaviour (recency) is pinned with the
`run_timestamp` setting in extra dbt invocations."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from harness import dbt_error_text

# test name -> the exact number of failing rows it returns (0: the passing fixtures)
EXPECTED_FAILURES = {
    "gov_relationships_where_pass": 0,
    "gov_relationships_where_fail": 2,
    "gov_equal_rowcount_pass": 0,
    "gov_equal_rowcount_fail": 1,
    "gov_equal_rowcount_fail_grouped": 1,
    "gov_cardinality_equality_pass": 0,
    "gov_cardinality_equality_fail": 3,
    "gov_mutually_exclusive_ranges_pass": 0,
    "gov_mutually_exclusive_ranges_fail": 4,
    "gov_mutually_exclusive_ranges_fail_gaps_required": 2,
    "gov_valid_scd2_pass": 0,
    "gov_valid_scd2_fail": 6,
    "gov_recency_pass": 0,
    "gov_recency_fail_grouped": 2,
    "gov_recency_date_fail": 1,
    "gov_recency_tz_fail": 1,
    "gov_freshness_pass": 0,
    "gov_freshness_fail": 2,
    "gov_freshness_default_sla_fail": 1,
    "gov_schema_matches_pass": 0,
    "gov_schema_matches_extra_allowed_pass": 0,
    "gov_schema_matches_fail": 4,
    "gov_no_schema_drift_pass": 0,
    "gov_no_schema_drift_pass_default_history": 0,
    "gov_no_schema_drift_fail": 3,
    "gov_no_schema_drift_fail_pending": 2,
    "gov_no_unmasked_pii_pass": 0,
    "gov_no_unmasked_pii_fail": 5,
}

DIMENSIONS = {
    "relationships_where": "consistency", "equal_rowcount": "consistency", "cardinality_equality": "consistency",
    "mutually_exclusive_ranges": "consistency", "valid_scd2": "consistency", "recency": "timeliness",
    "freshness": "timeliness", "schema_matches": "schema", "no_schema_drift": "schema", "no_unmasked_pii": "pii",
}

RECENCY_CLOCK_TESTS = ("gov_recency_date_fail", "gov_recency_tz_fail", "gov_recency_fail_grouped")


def governance_results(project) -> dict:
    return {r.node.name: r for r in project.build_result.result.results if r.node.resource_type == "test"}


def failing_rows(project, name: str, order_by: str = "1, 2") -> list[tuple]:
    relation = governance_results(project)[name].node.relation_name
    return project.warehouse.query(f"select * from {relation} order by {order_by}")


def steward_vars(**settings: object) -> str:
    return json.dumps({"steward": {"scorecard_runs": 20, "record_runs": True, **settings}})


# --- every test: exact failing-row counts, dimension meta ---------------------------------------

def test_every_governance_test_returns_its_exact_failing_rows(integration_project):
    results = governance_results(integration_project)
    missing = sorted(set(EXPECTED_FAILURES) - set(results))
    assert not missing, f"tests not built: {missing}"
    assert {n for n in results if n.startswith("gov_")} == set(EXPECTED_FAILURES)
    for name, expected in EXPECTED_FAILURES.items():
        # A pass proves the count: passing fixtures fail on any row, expected failures on any count but N.
        result = results[name]
        assert str(result.status) == "pass", f"{name}: {result.status} {result.message}"
        config = result.node.config
        if expected == 0:
            assert config.error_if == "!= 0" and not config.store_failures, name
        else:
            assert config.error_if == config.warn_if == f"!={expected}" and config.store_failures, name
            count = project_count(integration_project, result.node.relation_name)
            assert count == expected, f"{name}: {count} stored failing rows, expected {expected}"


def project_count(project, relation: str) -> int:
    return int(project.warehouse.scalar(f"select count(*) from {relation}"))


def test_dimension_meta_reaches_the_test_nodes_and_merges_with_user_meta(integration_project):
    results = governance_results(integration_project)
    for name in EXPECTED_FAILURES:
        meta = results[name].node.config.meta
        test_name = results[name].node.test_metadata.name
        assert meta.get("steward_dimension") == DIMENSIONS[test_name], name
    assert results["gov_valid_scd2_fail"].node.config.meta == {"steward_dimension": "consistency",
                                                              "owner": "governance"}


# --- consistency -------------------------------------------------------------------------------

def test_relationships_where_reports_missing_values_with_counts(integration_project):
    rows = failing_rows(integration_project, "gov_relationships_where_fail")
    assert [(r[0], int(r[1])) for r in rows] == [(3, 1), (5, 2)]
    assert all("gov_customers" in r[2] and "status = 'active'" in r[2] for r in rows)


def test_equal_rowcount_reports_counts_and_difference(integration_project):
    assert [tuple(int(v) for v in r[:3]) for r in failing_rows(integration_project, "gov_equal_rowcount_fail")] \
        == [(5, 7, -2)]
    rows = failing_rows(integration_project, "gov_equal_rowcount_fail_grouped")  # where: order_id <> 101
    assert [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows] == [("complete", 4, 5, -1)]


def test_cardinality_equality_says_which_side_lacks_the_value(integration_project):
    rows = failing_rows(integration_project, "gov_cardinality_equality_fail")
    assert [(r[0], r[1]) for r in rows] == [(5, "to"), (6, "to"), (7, "model")]


def test_mutually_exclusive_ranges_reports_the_conflicting_ranges(integration_project):
    rows = failing_rows(integration_project, "gov_mutually_exclusive_ranges_fail", "1, 3")
    assert [r[:6] for r in rows] == [
        ("C", "overlap", 5, 15, 0, 10),
        ("C", "gap", 20, 30, 5, 15),
        ("D", "inverted_range", 10, 5, None, None),
        ("E", "zero_length_range", 3, 3, None, None),
    ]
    rows = failing_rows(integration_project, "gov_mutually_exclusive_ranges_fail_gaps_required")
    assert [r[:6] for r in rows] == [("A", "no_gap", 10, 20, 0, 10), ("B", "no_gap", 5, 9, 0, 5)]


def test_valid_scd2_reports_key_violation_and_windows(integration_project):
    rows = failing_rows(integration_project, "gov_valid_scd2_fail", "1, 2")
    ts = dt.datetime
    assert [r[:6] for r in rows] == [
        (10, "multiple_current_rows", ts(2024, 1, 1), None, ts(2024, 3, 1), None),
        (10, "overlap", ts(2024, 1, 1), None, ts(2024, 3, 1), None),
        (11, "overlap", ts(2024, 1, 1), ts(2024, 2, 1), ts(2024, 1, 15), None),
        (12, "gap", ts(2024, 1, 1), ts(2024, 1, 10), ts(2024, 3, 1), ts(2024, 2, 1)),
        (12, "inverted_window", ts(2024, 3, 1), ts(2024, 2, 1), None, None),
        (12, "no_current_row", None, None, None, None),
    ]
    # key 13 closes its current row with 9999-12-31 (current_valid_to): no violation
    assert rows[0][7] == "2" and rows[-1][7] == "0"


# --- timeliness --------------------------------------------------------------------------------

def test_recency_and_freshness_report_age_and_threshold(integration_project):
    rows = failing_rows(integration_project, "gov_recency_fail_grouped")
    assert [(r[0], int(r[5])) for r in rows] == [("batch", 172800), ("web", 172800)]
    assert rows[1][2] == dt.datetime(2024, 6, 1, 10) and int(rows[1][4]) > 0
    (date_row,) = failing_rows(integration_project, "gov_recency_date_fail")
    assert date_row[0] == dt.date(2024, 6, 1) and date_row[1] == dt.datetime(2024, 6, 2)  # end of its day
    (tz_row,) = failing_rows(integration_project, "gov_recency_tz_fail")
    assert tz_row[1] == dt.datetime(2024, 6, 1, 10)  # 12:00+02 is 10:00 UTC
    # freshness: the model's meta steward_freshness_sla (48h), else the freshness_sla setting (24h)
    assert {int(r[5]) for r in failing_rows(integration_project, "gov_freshness_fail")} == {172800}
    assert [int(r[4]) for r in failing_rows(integration_project, "gov_freshness_default_sla_fail")] == [86400]


def rerun_clock_tests(project, run_timestamp: str | None, manifest) -> dict:
    args = ["test", "--select", *RECENCY_CLOCK_TESTS]
    if run_timestamp:
        args += ["--vars", steward_vars(run_timestamp=run_timestamp)]
    result = project.dbt(*args, expect_success=None, manifest=manifest)
    return {r.node.name: project_count(project, r.node.relation_name) for r in result.result.results
            if r.node.resource_type == "test"}


CLOCK_CASES = [
    # the web events end at 2024-06-01 10:00 UTC (timestamps), 2024-06-01 (date), 12:00+02 (timestamptz)
    ("2024-06-01 10:30:00", {"gov_recency_date_fail": 0, "gov_recency_tz_fail": 0, "gov_recency_fail_grouped": 1}),
    ("2024-06-01 11:30:00", {"gov_recency_date_fail": 0, "gov_recency_tz_fail": 1, "gov_recency_fail_grouped": 1}),
    ("2024-06-02 00:30:00", {"gov_recency_date_fail": 0, "gov_recency_tz_fail": 1, "gov_recency_fail_grouped": 1}),
    ("2024-06-02 01:30:00", {"gov_recency_date_fail": 1, "gov_recency_tz_fail": 1, "gov_recency_fail_grouped": 1}),
    ("2024-06-03 10:00:01", {"gov_recency_date_fail": 1, "gov_recency_tz_fail": 1, "gov_recency_fail_grouped": 2}),
]


def test_recency_uses_the_run_timestamp_setting_as_now(integration_project):
    """A date is fresh all of its day (max_age 1h: stale only after 01:00 the next day), a
    timestamptz is an absolute instant, and the run_timestamp setting replaces the clock."""
    # run_timestamp is read when the tests compile, so one parse serves every clock.
    manifest = integration_project.dbt("parse").result
    try:
        found = {run_timestamp: rerun_clock_tests(integration_project, run_timestamp, manifest)
                 for run_timestamp, _ in CLOCK_CASES}
    finally:
        rerun_clock_tests(integration_project, None, manifest)  # restore the stored failing rows
    assert found == dict(CLOCK_CASES)


# --- schema ------------------------------------------------------------------------------------

def test_schema_matches_reports_missing_extra_and_mismatched_columns(integration_project):
    rows = failing_rows(integration_project, "gov_schema_matches_fail")
    assert [(r[0], r[1], r[2], None if r[3] is None else r[3].lower()) for r in rows] == [
        ("event_at_tz", "extra", None, "timestamp with time zone"),
        ("event_day", "extra", None, "date"),
        ("event_id", "type_mismatch", "bigint", "integer"),
        ("missing_col", "missing", "boolean", None),
    ]


def test_no_schema_drift_reports_added_removed_and_retyped_columns(integration_project):
    rows = failing_rows(integration_project, "gov_no_schema_drift_fail")
    assert [(r[0], r[1], r[2], None if r[3] is None else r[3].lower()[:7]) for r in rows] == [
        ("amount", "retyped", "integer", "numeric" if integration_project.adapter == "postgres" else "decimal"),
        ("legacy_code", "removed", "character varying", None),
        ("status", "added", None, "charact" if integration_project.adapter == "postgres" else "varchar"),
    ]
    assert {r[4] for r in rows} == {"state before the latest recorded change"}
    rows = failing_rows(integration_project, "gov_no_schema_drift_fail_pending")
    assert [(r[0], r[1], r[2]) for r in rows] == [("note", "retyped", "integer"), ("old_col", "removed", "text")]
    assert {r[4] for r in rows} == {"latest recorded state"}


# --- PII ---------------------------------------------------------------------------------------

def test_no_unmasked_pii_flags_checked_patterns_with_masked_samples(integration_project):
    rows = failing_rows(integration_project, "gov_no_unmasked_pii_fail")
    assert [(r[0], r[1], int(r[2]), r[3]) for r in rows] == [
        ("contact_note", "email", 2, "ma***"),
        ("contact_note", "phone", 1, "ca***"),
        ("notes", "us_ssn", 1, "SS***"),
        # 1234 5678 9012 3456 fails Luhn and GB00 WEST ... fails mod-97: not flagged
        ("payment_ref", "card_number", 1, "41***"),
        ("payment_ref", "iban", 1, "DE***"),
    ]
    # the email column is tagged pii: true, so it is not scanned; no raw value is stored
    stored = " ".join(str(v) for r in rows for v in r)
    assert "@" not in stored and "4111" not in stored and "6789" not in stored


# --- masking -----------------------------------------------------------------------------------

def masked_rows(project) -> list[tuple]:
    (relation,) = [r.node.relation_name for r in project.build_result.result.results
                   if r.node.name == "gov_people_masked"]
    return project.warehouse.query(f"select * from {relation} order by person_id")


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_mask_masks_everything_outside_prod(integration_project):
    rows = masked_rows(integration_project)
    assert rows[0] == (1, md5("ann@example.com"), "****", "a*************m", "a******d", None, "****", "****")
    assert rows[3] == (4, md5("di@example.com"), "****", "d************m", None, None, None, None)


def test_mask_in_prod_masks_only_pii_and_forced_columns_and_mask_pii_turns_it_off(integration_project):
    project = integration_project
    try:
        project.target = "prod"
        project.dbt("run", "--select", "gov_people_masked")
        assert masked_rows(project)[0] == (1, md5("ann@example.com"), "ann@example.com", "ann@example.com",
                                           "all good", 1, "all good", "****")
        project.dbt("run", "--select", "gov_people_masked", "--vars", steward_vars(mask_pii=False))
        assert masked_rows(project)[0] == (1, "ann@example.com", "ann@example.com", "ann@example.com",
                                           "all good", 1, "all good", "all good")
    finally:
        project.target = "ci"
        project.dbt("run", "--select", "gov_people_masked")
    assert masked_rows(project)[0][2] == "****"


# --- argument validation -----------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    ("steward.default__test_mutually_exclusive_ranges(ref('gov_ranges_good'), 'lower_bound', 'upper_bound', "
     "none, 'sometimes', false)", "gaps must be"),
    ("steward.default__test_relationships_where(ref('gov_orders'), 'customer_id; drop table x', "
     "ref('gov_customers'), 'customer_id')", "relationships_where column_name"),
    ("steward.default__test_recency(ref('gov_events'), 'event_at', 'six hours')",
     "steward.recency max_age must be a duration such as 90s, 30m, 6h, 3d, 2w or '2 days' (at most 100 years), "
     'got "six hours"'),
    ("steward.default__test_schema_matches(ref('gov_events'), ['event_id'])", "columns must be a non-empty mapping"),
    ("steward.default__test_valid_scd2(ref('gov_scd2_good'), 'customer_id', current_valid_to='someday')",
     "current_valid_to"),
    ("steward.mask('email', 'scramble')", "strategy must be"),
])
def test_bad_arguments_fail_compilation_naming_the_argument(integration_project, call, message):
    result = integration_project.dbt("compile", "--inline", "{{ " + call + " }}", expect_success=False)
    assert message in dbt_error_text(result)

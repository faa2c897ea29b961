"""steward's dbt package on Spark: integration_tests built once, in one dbt-spark session-mode invocation, and
the DuckDB/PostgreSQL suite's own assertions run against it (imported from those modules, so the two suites
cannot drift apart). What Spark answers differently (type names) or where the package disables a feature
(no information_schema: the column catalog, the schema history and no_schema_drift) is asserted here."""

from __future__ import annotations

from test_integration_project import test_setting_reads_project_override_and_package_default
from test_modelling_macros import (
    test_date_dimension_matches_expected,
    test_date_spine_every_grain,
    test_dedupe_keeps_latest_row_per_key_and_null_keys,
    test_incremental_window_grace_backfill_and_idempotence,
    test_surrogate_keys_equal_python_md5_on_every_adapter,
    test_unknown_member_and_member_key,
)
from test_observability import (
    test_anomaly_fixture_returns_exact_failing_rows,
    test_injected_anomalies_are_the_points_flagged,
    test_invocation_row_describes_the_build,
    test_node_results_match_dbt_results,
    test_row_counts_recorded_for_every_built_table,
    test_seven_training_points_suffice_to_catch_a_spike,
)
from test_quality_core import (
    test_accepted_range_whole_row_or_key_columns,
    test_accepted_values_proportion_context,
    test_every_core_fixture_is_listed,
    test_expression_is_true_rows_and_groups,
    test_fixture_returns_exact_failing_row_count,
    test_is_null_context,
    test_matches_pattern_custom_pattern_is_anchored,
    test_matches_pattern_presets_agree_on_every_adapter,
    test_no_gaps_missing_dates_values_and_groups,
    test_not_null_proportion_context,
    test_primary_key_reports_duplicates_and_nulls,
    test_reconciles_with_groups_missing_sides_and_tolerance,
    test_row_count_between_context,
    test_string_length_between_context,
    test_unique_combination_null_modes,
)
from test_quality_governance import EXPECTED_FAILURES as GOVERNANCE_FAILURES
from test_quality_governance import (
    failing_rows,
    governance_results,
    project_count,
    test_cardinality_equality_says_which_side_lacks_the_value,
    test_equal_rowcount_reports_counts_and_difference,
    test_mask_masks_everything_outside_prod,
    test_mutually_exclusive_ranges_reports_the_conflicting_ranges,
    test_no_unmasked_pii_flags_checked_patterns_with_masked_samples,
    test_recency_and_freshness_report_age_and_threshold,
    test_relationships_where_reports_missing_values_with_counts,
    test_valid_scd2_reports_key_violation_and_windows,
)
from test_quality_profile import (
    test_failing_checks_one_row_each_with_context,
    test_group_by_gives_one_row_per_failing_group_column_and_check,
)
from test_quality_profile import (
    test_fixture_returns_exact_failing_row_count as test_profile_fixture_returns_exact_failing_row_count,
)

# Disabled on Spark, which has no information_schema.columns (macros/utils/internal_has_information_schema.sql).
WITHOUT_INFORMATION_SCHEMA = ("steward_column_catalog", "steward_schema_history", "no_schema_drift")


def test_build_succeeds_on_every_enabled_node(integration_project):
    result = integration_project.build_result
    assert result.success, result.exception
    statuses = {r.node.unique_id: str(r.status) for r in result.result.results}
    assert set(statuses.values()) <= {"success", "pass"}, {k: v for k, v in statuses.items()
                                                          if v not in ("success", "pass")}
    assert not [node for node in statuses if any(name in node for name in WITHOUT_INFORMATION_SCHEMA)]


def test_what_spark_cannot_run_is_disabled_with_one_log_line(integration_project):
    manifest = integration_project.build_manifest
    disabled = {node["name"] for nodes in manifest["disabled"].values() for node in nodes}
    assert {"steward_column_catalog", "steward_schema_history"} <= disabled
    assert {name for name in GOVERNANCE_FAILURES if "no_schema_drift" in name} <= disabled
    log = (integration_project.directory / "logs" / "dbt.log").read_text()
    notices = [line for line in log.splitlines() if "are disabled on spark: it has no information_schema" in line]
    assert notices, "the adapter notice was not logged"


def test_every_governance_test_returns_its_exact_failing_rows_on_spark(integration_project):
    results = governance_results(integration_project)
    expected = {name: count for name, count in GOVERNANCE_FAILURES.items() if "no_schema_drift" not in name}
    assert {name for name in results if name.startswith("gov_")} == set(expected)
    for name, count in expected.items():
        result = results[name]
        assert str(result.status) == "pass", f"{name}: {result.status} {result.message}"
        if count:
            assert project_count(integration_project, result.node.relation_name) == count, name


def test_schema_matches_reports_spark_type_names(integration_project):
    rows = failing_rows(integration_project, "gov_schema_matches_fail")
    assert [(r[0], r[1], r[2], None if r[3] is None else r[3].lower()) for r in rows] == [
        ("event_at_tz", "extra", None, "timestamp"),
        ("event_day", "extra", None, "date"),
        ("event_id", "type_mismatch", "bigint", "int"),
        ("missing_col", "missing", "boolean", None),
    ]

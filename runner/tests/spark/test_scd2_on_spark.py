"""The scd2 materialization on Spark (runner/tests/test_scd2.py's batches and assertions, imported), written
by spark__scd2.sql: the next state swapped in by renames. Two things differ and are asserted here:
- a run that changes a table rewrites all of it (Spark's parquet tables take no DELETE or UPDATE), so a
  version no run touched still moves to a new file when another version of the table changed;
- `dbt snapshot` needs MERGE (delta, hudi, iceberg) on Spark, which session mode here lacks: the plain
  case is compared with dbt snapshot's history of the same batches built on DuckDB in this test."""

from __future__ import annotations

import json

from test_scd2 import (
    BATCHES,
    batches,
    sequence_manifest,
    test_changelog_keeps_every_change_late_events_and_delete_restore,
    test_changelog_without_loaded_at_captures_late_events_older_than_the_history,
    test_exactly_one_current_row_per_key_and_no_overlaps,
    test_full_refresh_of_a_changelog_rebuilds_the_same_history,
    test_invalidate_closes_versions_with_far_future_and_renamed_columns,
    test_new_source_column_is_appended_and_tracked,
    test_rerun_with_no_new_events_writes_nothing,
    test_state_source_with_duplicates_delete_restore_and_older_correction,
    test_state_source_with_loaded_at_reads_only_rows_past_the_watermark,
)


def test_fast_path_and_restitch_give_the_same_histories_as_elsewhere(batches):
    paths = {batch: batches[batch]["paths"] for batch in BATCHES}
    assert [row[:3] for row in paths[2]] == [
        (1, "2024-01-01 09:00:00", "2024-01-02 09:00:00"), (1, "2024-01-02 09:00:00", None),
        (2, "2024-01-01 09:00:00", "2024-01-05 00:00:00"), (2, "2024-01-05 00:00:00", None)]
    assert paths[4] == paths[3]
    assert batches[4]["paths_locations"] == batches[3]["paths_locations"]  # nothing new: nothing written
    assert [row[:3] for row in paths[5] if row[0] == 2][-2:] == [
        (2, "2024-01-05 00:00:00", "2024-01-05 12:00:00"), (2, "2024-01-05 12:00:00", None)]
    # Batch 3 changed the table: every version was rewritten into the swapped-in table, untouched ones too.
    untouched = (2, "2024-01-05 00:00:00")
    assert batches[3]["paths_locations"][untouched] != batches[2]["paths_locations"][untouched]


def test_plain_case_equals_dbt_snapshot_on_duckdb(batches, integration_project, project_factory):
    schema = integration_project.warehouse.schema_prefix
    ours = integration_project.warehouse.query(
        f"select customer_id, valid_from, valid_to from {schema}.scd2_plain_history order by 1, 2")
    duckdb = project_factory("integration_tests", "duckdb", "steward_integration_tests", label="snapshot")
    duckdb.dbt("deps")
    for batch in BATCHES:
        variables = {"scd2_sequence": True, "scd2_batch": batch,
                     "steward": {"run_timestamp": f"2024-01-0{batch} 12:00:00"}}
        duckdb.dbt("build", "--select", "scd2_plain_states", "scd2_plain_at_batch", "scd2_plain_snapshot",
                   "--vars", json.dumps(variables))
    theirs = duckdb.warehouse.query(
        f"select customer_id, dbt_valid_from, dbt_valid_to from {duckdb.warehouse.schema_prefix}.scd2_plain_snapshot "
        "order by 1, 2")
    assert len(ours) == 8
    assert ours == theirs

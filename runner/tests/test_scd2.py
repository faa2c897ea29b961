"""The scd2 materialization, run batch by batch on both adapters against hand-derived histories.

One invocation per batch builds every scd2 model of integration_tests/models/scd2 and dbt's own
snapshot of the plain case (enabled only with --vars scd2_sequence: true).
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

BATCHES = (1, 2, 3, 4, 5)


def ts(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")


def run_batch(project, manifest, batch: int, full_refresh: bool = False):
    run_timestamp = f"2024-01-0{batch} 12:00:00"
    flags = ["--full-refresh"] if full_refresh else []
    variables = {"scd2_sequence": True, "scd2_batch": batch, "steward": {"run_timestamp": run_timestamp}}
    return project.dbt("build", "--select", "path:models/scd2", "path:snapshots", "path:seeds/scd2",
                       "steward_column_catalog", "steward_schema_history",
                       "--vars", json.dumps(variables), *flags, manifest=manifest)


def history(project, model: str, valid_from: str = "valid_from", valid_to: str = "valid_to",
            extra: str = "") -> list[tuple]:
    schema = project.warehouse.schema_prefix
    rows = project.warehouse.query(
        f"select customer_id, {valid_from}, {valid_to}, is_current, is_deleted, email, tier{extra} "
        f"from {schema}.{model} order by customer_id, {valid_from}")
    return [tuple(_text(v) for v in row) for row in rows]


def location_column(adapter: str) -> str:
    """Where a row is stored: PostgreSQL's ctid, DuckDB's rowid, the file Spark read it from."""
    return {"postgres": "ctid::text", "spark": "input_file_name()"}.get(adapter, "rowid")


def physical_rows(project, model: str) -> list[str]:
    """Where each row is stored: a rewritten row moves."""
    column = location_column(project.adapter)
    schema = project.warehouse.schema_prefix
    return sorted(str(row[0]) for row in project.warehouse.query(f"select {column} from {schema}.{model}"))


def version_locations(project, model: str) -> dict[tuple, str]:
    """Where each version (key, valid_from) is stored: a rewritten version moves."""
    column = location_column(project.adapter)
    schema = project.warehouse.schema_prefix
    rows = project.warehouse.query(f"select customer_id, valid_from, {column} from {schema}.{model}")
    return {(key, _text(valid_from)): str(location) for key, valid_from, location in rows}


def _text(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


@pytest.fixture(scope="module")
def sequence_manifest(integration_project):
    """One parse with the sequence enabled: scd2_batch and run_timestamp are read at compile time,
    so every batch builds from it."""
    return integration_project.dbt("parse", "--vars", json.dumps({"scd2_sequence": True})).result


@pytest.fixture(scope="module")
def batches(integration_project, sequence_manifest):
    """Run every batch once and keep what each left behind."""
    states = {}
    for batch in BATCHES:
        result = run_batch(integration_project, sequence_manifest, batch, full_refresh=batch == 1)
        assert result.success
        states[batch] = {
            "changelog": history(integration_project, "scd2_history_changelog"),
            "state": history(integration_project, "scd2_history_state"),
            "physical": {model: physical_rows(integration_project, model)
                         for model in ("scd2_history_changelog", "scd2_history_state")},
            "paths": history(integration_project, "scd2_history_paths"),
            "paths_locations": version_locations(integration_project, "scd2_history_paths"),
            "watermark": history(integration_project, "scd2_watermark_history"),
            "watermark_physical": physical_rows(integration_project, "scd2_watermark_history"),
            "late": history(integration_project, "scd2_late_changelog"),
            "late_physical": physical_rows(integration_project, "scd2_late_changelog"),
            "late_loaded": history(integration_project, "scd2_late_changelog_loaded"),
            "late_loaded_physical": physical_rows(integration_project, "scd2_late_changelog_loaded"),
            "changelog_with_new_column": history(integration_project, "scd2_history_changelog",
                                                 extra=", tier_code") if batch >= 5 else None,
        }
    return states


def test_changelog_keeps_every_change_late_events_and_delete_restore(batches):
    assert batches[3]["changelog"] == [
        # two changes between runs, an exact duplicate dropped, and a late event put in its place
        (1, ts("2024-01-01 09:00"), ts("2024-01-01 12:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-01 12:00"), ts("2024-01-01 15:00"), False, False, "a@example.com", "platinum"),
        (1, ts("2024-01-01 15:00"), ts("2024-01-01 18:00"), False, False, "a@example.com", "diamond"),
        (1, ts("2024-01-01 18:00"), None, True, False, "a2@example.com", "platinum"),
        # delete then restore: the deletion is a version of its own; no overlap, no inverted window
        (2, ts("2024-01-01 09:00"), ts("2024-01-01 20:00"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-01 20:00"), ts("2024-01-02 08:00"), False, True, "b@example.com", "silver"),
        (2, ts("2024-01-02 08:00"), None, True, False, "b@example.com", "silver"),
        # a no-op event collapses
        (3, ts("2024-01-01 09:00"), None, True, False, "c@example.com", "bronze"),
        # duplicate source keys: the later load wins, one current row
        (4, ts("2024-01-01 09:00"), None, True, False, "d-second@example.com", "gold"),
        # a no-op event with a NULL attribute collapses too
        (5, ts("2024-01-01 09:00"), None, True, False, "e@example.com", None),
    ]


def test_rerun_with_no_new_events_writes_nothing(batches):
    assert batches[4]["changelog"] == batches[3]["changelog"]
    assert batches[4]["state"] == batches[3]["state"]
    assert batches[4]["physical"] == batches[3]["physical"]
    assert batches[3]["physical"] != batches[2]["physical"]  # the measure does see writes


def test_new_source_column_is_appended_and_tracked(batches):
    rows = batches[5]["changelog_with_new_column"]
    customer_3 = [row for row in rows if row[0] == 3]
    assert customer_3 == [
        (3, ts("2024-01-01 09:00"), ts("2024-01-04 09:00"), False, False, "c@example.com", "bronze", None),
        (3, ts("2024-01-04 09:00"), None, True, False, "c@example.com", "silver", "SILVER"),
    ]
    assert [row[:7] for row in rows if row[0] != 3] == [row for row in batches[3]["changelog"] if row[0] != 3]


def test_invalidate_closes_versions_with_far_future_and_renamed_columns(batches, integration_project):
    rows = history(integration_project, "scd2_history_invalidate", "effective_from", "effective_to")
    customer_2 = [row for row in rows if row[0] == 2]
    assert customer_2 == [
        (2, ts("2024-01-01 09:00"), ts("2024-01-01 20:00"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-02 08:00"), ts("9999-12-31 00:00"), True, False, "b@example.com", "silver"),
    ]
    assert len([row for row in rows if row[0] == 1]) == 4


def test_state_source_with_duplicates_delete_restore_and_older_correction(batches):
    assert batches[3]["state"] == [
        (1, ts("2024-01-01 09:00"), ts("2024-01-01 18:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-01 18:00"), None, True, False, "a2@example.com", "platinum"),
        # missing in batch 2 (deleted at that run), back in batch 3 with a newer updated_at
        (2, ts("2024-01-01 09:00"), ts("2024-01-02 12:00"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-02 12:00"), ts("2024-01-03 12:00"), False, True, None, None),
        (2, ts("2024-01-03 12:00"), None, True, False, "b@example.com", "silver"),
        # a correction whose updated_at is older than the current version: kept, from when it was seen
        (3, ts("2024-01-01 09:00"), ts("2024-01-03 12:00"), False, False, "c@example.com", "bronze"),
        (3, ts("2024-01-03 12:00"), None, True, False, "c-fixed@example.com", "bronze"),
        # duplicate keys in one state: the latest updated_at wins
        (4, ts("2024-01-01 09:30"), None, True, False, "d-new@example.com", "gold"),
    ]


def test_fast_path_and_restitch_agree(batches):
    """Batch 2 and customer 1 in batch 3 take the fast path (a change after the live current
    version); customer 2 in batch 3 (a correction before its current version) and customer 3 (a
    new key) are re-stitched, reading versions the fast path wrote; in batch 5 the fast path
    closes a version the re-stitch kept."""
    expected = [
        (1, ts("2024-01-01 09:00"), ts("2024-01-02 09:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-02 09:00"), ts("2024-01-03 09:00"), False, False, "a@example.com", "silver"),
        (1, ts("2024-01-03 09:00"), None, True, False, "a@example.com", "bronze"),
        # the correction is seen at the batch-3 run (12:00) and lands before the future-dated version
        (2, ts("2024-01-01 09:00"), ts("2024-01-03 12:00"), False, False, "b@example.com", "gold"),
        (2, ts("2024-01-03 12:00"), ts("2024-01-05 00:00"), False, False, "b@example.com", "platinum"),
        (2, ts("2024-01-05 00:00"), None, True, False, "b@example.com", "silver"),
        (3, ts("2024-01-03 09:00"), None, True, False, "c@example.com", "gold"),
    ]
    assert batches[2]["paths"] == [
        (1, ts("2024-01-01 09:00"), ts("2024-01-02 09:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-02 09:00"), None, True, False, "a@example.com", "silver"),
        (2, ts("2024-01-01 09:00"), ts("2024-01-05 00:00"), False, False, "b@example.com", "gold"),
        (2, ts("2024-01-05 00:00"), None, True, False, "b@example.com", "silver"),
    ]
    assert batches[3]["paths"] == expected
    # The re-stitch kept the version the fast path wrote (same hash as its own), only closing others.
    future_version = (2, ts("2024-01-05 00:00"))
    assert batches[3]["paths_locations"][future_version] == batches[2]["paths_locations"][future_version]
    # Batch 4 (run at 01-04 12:00) sees customer 2 still in platinum, which its versions already
    # hold before the current one: re-stitched, nothing written.
    assert batches[4]["paths"] == expected
    assert batches[4]["paths_locations"] == batches[3]["paths_locations"]
    # Batch 5 (run at 01-05 12:00) sees it after the current version began: the fast path closes it.
    assert batches[5]["paths"] == [
        *expected[:5],
        (2, ts("2024-01-05 00:00"), ts("2024-01-05 12:00"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-05 12:00"), None, True, False, "b@example.com", "platinum"),
        expected[6],
    ]


def test_state_source_with_loaded_at_reads_only_rows_past_the_watermark(batches):
    """With loaded_at, a state source is read past the newest stored load time minus the grace window
    (never past the last run, whatever a future-dated load time says): a late row within the grace lands
    in place, a change loaded before it is not read, and with hard deletes a key missing from the whole
    source is a delete and a key with no live version is read whatever its load time."""
    # Batch 2 (run 01-02 12:00) reads what was loaded after 01-01 11:00: the newest load time, 2099
    # (customer 6), capped at the batch-1 run (01-01 12:00) that stored the versions, minus the 1h grace.
    batch_2 = [
        (1, ts("2024-01-01 09:00"), ts("2024-01-02 09:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-02 09:00"), None, True, False, "a@example.com", "platinum"),
        (2, ts("2024-01-01 09:00"), ts("2024-01-01 09:30"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-01 09:30"), None, True, False, "b@example.com", "gold"),
        # changed in the source, but loaded at 08:00, before the watermark
        (3, ts("2024-01-01 09:00"), None, True, False, "c@example.com", "bronze"),
        (4, ts("2024-01-01 09:00"), ts("2024-01-02 12:00"), False, False, "d@example.com", "gold"),
        (4, ts("2024-01-02 12:00"), None, True, True, None, None),
        (6, ts("2024-01-01 09:00"), None, True, False, "f@example.com", "gold"),
    ]
    assert batches[2]["watermark"] == batch_2
    # Batch 3 (run 01-03 12:00): customer 4 comes back and customer 5 appears, both loaded on 01-01, long
    # before the watermark: read because neither has a live current version.
    assert batches[3]["watermark"] == [
        *batch_2[:6],
        (4, ts("2024-01-02 12:00"), ts("2024-01-03 12:00"), False, True, None, None),
        (4, ts("2024-01-03 12:00"), None, True, False, "d@example.com", "gold"),
        (5, ts("2024-01-01 09:00"), None, True, False, "e@example.com", "silver"),
        batch_2[7],
    ]
    assert batches[5]["watermark"] == batches[3]["watermark"]
    assert batches[5]["watermark_physical"] == batches[3]["watermark_physical"]


def test_changelog_without_loaded_at_captures_late_events_older_than_the_history(batches):
    """No load time, so no watermark: an event is new when the stored history does not hold it,
    however old its updated_at (issue #18: such events used to be dropped without a word)."""
    customer_2 = (2, ts("2024-01-01 09:00"), None, True, False, "b@example.com", "gold")
    assert batches[2]["late"] == [
        (1, ts("2024-01-01 09:00"), ts("2024-01-02 09:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-02 09:00"), ts("2024-01-03 09:00"), False, False, "a@example.com", "silver"),
        (1, ts("2024-01-03 09:00"), None, True, False, "a@example.com", "bronze"),
        customer_2,  # its no-op event at 15:00 collapsed
        (3, ts("2024-01-01 09:00"), ts("2024-01-02 10:00"), False, False, "c@example.com", "gold"),
        (3, ts("2024-01-02 10:00"), None, True, True, "c@example.com", "gold"),
    ]
    late = [
        # two days older than the newest stored event, loaded a run later: in its place
        (1, ts("2024-01-01 09:00"), ts("2024-01-01 12:00"), False, False, "a@example.com", "gold"),
        (1, ts("2024-01-01 12:00"), ts("2024-01-02 09:00"), False, False, "a-late@example.com", "gold"),
        (1, ts("2024-01-02 09:00"), ts("2024-01-03 09:00"), False, False, "a@example.com", "silver"),
        (1, ts("2024-01-03 09:00"), None, True, False, "a@example.com", "bronze"),
        customer_2,
        # a late change before the delete
        (3, ts("2024-01-01 09:00"), ts("2024-01-01 20:00"), False, False, "c@example.com", "gold"),
        (3, ts("2024-01-01 20:00"), ts("2024-01-02 10:00"), False, False, "c@example.com", "platinum"),
        (3, ts("2024-01-02 10:00"), None, True, True, "c@example.com", "gold"),
    ]
    assert batches[3]["late"] == late
    # The same log again: nothing written.
    assert batches[4]["late"] == late
    assert batches[4]["late_physical"] == batches[3]["late_physical"]
    # A late change before the no-op event makes that event a change back.
    assert batches[5]["late"] == [
        *late[:4],
        (2, ts("2024-01-01 09:00"), ts("2024-01-01 12:00"), False, False, "b@example.com", "gold"),
        (2, ts("2024-01-01 12:00"), ts("2024-01-01 15:00"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-01 15:00"), None, True, False, "b@example.com", "gold"),
        *late[5:],
    ]


def test_changelog_with_loaded_at_reads_back_the_older_events_of_a_late_key(batches):
    """With loaded_at a run reads the events loaded past the watermark; a key with a late event also has
    its older events read back from the source, so a no-op event loaded runs before (and so not read
    again) that follows the late change becomes a change back, as without loaded_at."""
    # Batch 5 (watermark 01-03 10:00) reads customer 2's late change at 01-01 12:00 but not its no-op
    # event at 15:00, loaded on 01-03 10:00: without reading it back, silver would be current.
    customer_2 = [row for row in batches[5]["late_loaded"] if row[0] == 2]
    assert customer_2 == [
        (2, ts("2024-01-01 09:00"), ts("2024-01-01 12:00"), False, False, "b@example.com", "gold"),
        (2, ts("2024-01-01 12:00"), ts("2024-01-01 15:00"), False, False, "b@example.com", "silver"),
        (2, ts("2024-01-01 15:00"), None, True, False, "b@example.com", "gold"),
    ]
    # Every batch keeps the history of the same log read without loaded_at (checked row by row above).
    for batch in BATCHES:
        assert batches[batch]["late_loaded"] == batches[batch]["late"]
    # The same log again: nothing written.
    assert batches[4]["late_loaded_physical"] == batches[3]["late_loaded_physical"]


def test_full_refresh_of_a_changelog_rebuilds_the_same_history(batches, integration_project, sequence_manifest):
    # The same versions; only tier_code, new in batch 5, is now filled in for older versions too.
    incremental = history(integration_project, "scd2_history_changelog")
    run_batch(integration_project, sequence_manifest, 5, full_refresh=True)
    assert history(integration_project, "scd2_history_changelog") == incremental


def test_plain_case_equals_dbt_snapshot(batches, integration_project):
    schema = integration_project.warehouse.schema_prefix
    ours = integration_project.warehouse.query(
        f"select customer_id, valid_from, valid_to from {schema}.scd2_plain_history order by 1, 2")
    theirs = integration_project.warehouse.query(
        f"select customer_id, dbt_valid_from, dbt_valid_to from {schema}.scd2_plain_snapshot order by 1, 2")
    assert len(ours) == 8
    assert ours == theirs


def test_exactly_one_current_row_per_key_and_no_overlaps(batches, integration_project):
    schema = integration_project.warehouse.schema_prefix
    for model in ("scd2_history_changelog", "scd2_history_state", "scd2_plain_history", "scd2_history_paths",
                  "scd2_watermark_history", "scd2_late_changelog", "scd2_late_changelog_loaded"):
        assert integration_project.warehouse.query(
            f"select customer_id from {schema}.{model} group by customer_id "
            "having sum(case when is_current then 1 else 0 end) <> 1") == []
        assert integration_project.warehouse.query(
            f"select a.customer_id from {schema}.{model} a join {schema}.{model} b "
            "on a.customer_id = b.customer_id and a.scd_id <> b.scd_id "
            "and a.valid_from < coalesce(b.valid_to, cast('9999-12-31' as timestamp)) "
            "and b.valid_from < coalesce(a.valid_to, cast('9999-12-31' as timestamp))") == []
        assert integration_project.warehouse.query(
            f"select customer_id from {schema}.{model} where valid_to <= valid_from") == []


def test_schema_history_records_when_a_column_appeared(batches, integration_project):
    schema = integration_project.warehouse.schema_prefix
    rows = integration_project.warehouse.query(
        f"select lower(column_name), dbt_valid_from, dbt_valid_to from {schema}.steward_schema_history "
        f"where relation_name = '{schema}.scd2_history_changelog' order by 2, 1")
    columns = {name: (valid_from, valid_to) for name, valid_from, valid_to in rows}
    assert {"customer_id", "email", "valid_from", "scd_loaded_at", "tier_code"} <= set(columns)
    assert all(valid_to is None for _, valid_to in columns.values())
    assert columns["tier_code"][0] > columns["email"][0]  # seen only from batch 5 on

"""The runner on Spark (session mode): env, deploy with a rollback point, a failing test restored and
verified, rollback, a restore finished after it stopped half-way, the lock, and a model asking for a
table format the session does not have. Deploys run in-process through the Python API on a selection of
the session-built integration_tests project (one JVM; a second `steward` process could not open the
session's Derby metastore while this one holds it, which test_runner_processes_on_spark.py covers)."""

from __future__ import annotations

import fcntl
import json
from dataclasses import asdict

import pytest
from test_guarded_deploy import api_context, api_deploy

from steward.deploy.recovery import list_deploys, rollback
from steward.errors import BadInput, DbtFailed, exit_code_for
from steward.warehouse import Relation, opened
from steward.warehouse.lock import DeployLock, LockHolder
from steward.warehouse.rollback import RollbackStore

# A seed and the model on it, with the package's tests on the model: what each deploy here ships.
SELECTION = "core_payments_input core_payments"
FAILING_TEST = "select payment_id from {{ ref('core_payments') }} where payment_id is not null\n"


def deployed(project) -> dict[str, list[tuple[str, ...]]]:
    """Every row of the two relations the deploys touch, read independently of steward's checksums."""
    contents = project.warehouse.contents()
    return {name: rows for name, rows in contents.items() if name.split(".")[1] in SELECTION.split()}


def test_env_says_what_spark_does_not_guarantee(integration_project):
    done = integration_project.cli("env", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["adapter"] == "spark"
    guarantees = data["runner_guarantees"]
    assert "no transaction" in guarantees["restore"] and "mixed" in guarantees["restore"]
    assert guarantees["blue_green"].startswith("not supported")
    assert guarantees["backfill"].startswith("not supported")


def test_deploy_keeps_a_rollback_point_of_copies(integration_project):
    result = api_deploy(integration_project, select=SELECTION)
    assert result.status == "succeeded"
    entries = {str(entry.relation).split(".")[1]: entry for entry in result.rollback_point}
    assert set(entries) == set(SELECTION.split())
    # Spark cannot move a table to another schema: each copy sits beside its relation.
    assert all(entry.copy is not None and entry.copy.schema == entry.relation.schema for entry in entries.values())
    assert entries["core_payments_input"].row_count == len(deployed(integration_project)[
        f"{integration_project.warehouse.schema_prefix}.core_payments_input"])


def test_failing_test_restores_every_relation_with_counts_and_checksums(integration_project):
    before = deployed(integration_project)
    model = integration_project.directory / "models" / "quality" / "core" / "core_payments.sql"
    original = model.read_text()
    failing = integration_project.directory / "tests" / "core_payments_fails.sql"
    try:
        model.write_text(original.rstrip().rstrip(";") + "\nlimit 2\n")
        failing.write_text(FAILING_TEST)
        with pytest.raises(DbtFailed) as raised:
            api_deploy(integration_project, select=SELECTION + " core_payments_fails")
    finally:
        model.write_text(original)
        failing.unlink()
    assert exit_code_for(raised.value) == 1
    assert "2 relation(s) restored to the rollback point" in str(raised.value) and "verified" in str(raised.value)
    assert deployed(integration_project) == before
    latest = list_deploys(api_context(integration_project))[0]
    assert [state for state, _ in latest.record.history] == [
        "planned", "locked", "snapshotted", "building", "failed", "rolled_back"]


def test_rollback_of_a_successful_deploy_then_again_is_a_no_op(integration_project):
    before = deployed(integration_project)
    model = integration_project.directory / "models" / "quality" / "core" / "core_payments.sql"
    original = model.read_text()
    try:
        model.write_text(original.rstrip().rstrip(";") + "\nlimit 2\n")
        result = api_deploy(integration_project, select="core_payments", exclude="test_type:data")
    finally:
        model.write_text(original)
    assert result.status == "succeeded"
    assert deployed(integration_project) != before
    undone = rollback(api_context(integration_project), result.deploy_id)
    assert not undone.already and undone.record.state == "rolled_back" and not undone.mismatches
    assert deployed(integration_project) == before
    assert rollback(api_context(integration_project), result.deploy_id).already
    assert deployed(integration_project) == before


def test_a_restore_stopped_half_way_is_finished_and_verified(integration_project):
    """Spark has no transaction: a restore killed between two tables leaves one swapped. Running it again
    swaps the rest, leaves the swapped one alone, and verifies both."""
    before = deployed(integration_project)
    seed = integration_project.directory / "seeds" / "quality" / "core" / "core_payments_input.csv"
    original = seed.read_text()
    try:
        seed.write_text(original + "99,north,1.00\n")
        result = api_deploy(integration_project, select=SELECTION, exclude="test_type:data")
    finally:
        seed.write_text(original)
    assert deployed(integration_project) != before
    context = api_context(integration_project)
    with opened(context.project.connection) as warehouse:
        store = RollbackStore(warehouse, context.policy.rollback_schema)
        first = next(entry for entry in store.entries(result.deploy_id) if entry.relation.name == "core_payments_input")
        store._restore_table(first, "table")  # the first table of the restore, as a killed one left it
    undone = rollback(context, result.deploy_id)
    assert undone.record.state == "rolled_back" and not undone.mismatches
    assert deployed(integration_project) == before


def test_a_second_deploy_is_refused_while_the_lock_is_held(integration_project):
    context = api_context(integration_project)
    holder = LockHolder("20240101T000000Z-abcdef", "elsewhere", 4242, "2024-01-01T00:00:00+00:00",
                        "2024-01-01T00:15:00+00:00")
    lock = DeployLock(context.project, holder, context.policy.rollback_schema)
    path = lock.lock_file()
    # The lock sits beside the session's warehouse directory, so every checkout building into it contends.
    assert path.name == "warehouse.steward.warehouse.lock"
    with path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(json.dumps(asdict(holder)))
        handle.flush()
        before = integration_project.warehouse.catalog()
        done = integration_project.cli("deploy", "--select", SELECTION)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    assert done.returncode == 4, done.stderr
    assert "deploy 20240101T000000Z-abcdef (host elsewhere, pid 4242" in done.stderr
    assert integration_project.warehouse.catalog() == before


def test_a_model_in_a_table_format_the_session_lacks_is_refused(integration_project):
    model = integration_project.directory / "models" / "quality" / "core" / "core_payments.sql"
    original = model.read_text()
    before = integration_project.warehouse.catalog()
    try:
        model.write_text("{{ config(file_format='delta') }}\n" + original)
        with pytest.raises(BadInput) as raised:
            api_deploy(integration_project, select=SELECTION)
    finally:
        model.write_text(original)
    message = str(raised.value)
    assert exit_code_for(raised.value) == 2
    assert "core_payments" in message and "file_format 'delta'" in message
    assert "spark.sql.extensions" in message and "spark.sql.catalog.spark_catalog" in message
    assert integration_project.warehouse.catalog() == before


def test_journal_and_points_live_in_the_rollback_schema(integration_project):
    context = api_context(integration_project)
    with opened(context.project.connection) as warehouse:
        kinds = warehouse.relation_kinds([Relation(context.policy.rollback_schema, name) for name in (
            "steward_deploys", "steward_journal", "steward_rollback_points")])
    assert set(kinds.values()) == {"table"}


def test_a_second_process_is_turned_away_from_the_metastore_this_one_holds(integration_project):
    """This pytest process's JVM has the session's Derby metastore open, as a running deploy would: another
    `steward` process says so (exit 4) before it starts a JVM of its own."""
    done = integration_project.steward("deploys", "--json")
    assert done.returncode == 4, done.stderr[-2000:]
    assert "metastore" in done.stderr and "is open in another process" in done.stderr

"""What only real processes can show: kill -9 mid-build and recovery, concurrent deploys, foreign lock holders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import SENTINEL_PASSWORD, DbtProject, KilledRun, steward_killed_at, wait_until_unlocked
from test_guarded_deploy import api_context

from steward.deploy.blue_green import STAGE_SUFFIX
from steward.deploy.recovery import list_deploys
from steward.errors import (
    EXIT_CODES,
    BadInput,
    ConnectionLost,
    DbtFailed,
    DeployLocked,
    LintFailed,
    RecoveryRequired,
    RollbackFailed,
    SafetyRefused,
    StorageFailed,
    exit_code_for,
)
from steward.warehouse import opened
from steward.warehouse.journal import DeployRecord, LocalJournal, WarehouseJournal
from steward.warehouse.rollback import deploy_token


def slow_model(project: DbtProject, seconds: int) -> Path:
    """A model built after fct_orders that takes `seconds`, so a deploy can be caught mid-build."""
    marts = project.directory / "models" / "marts"
    if project.adapter == "postgres":
        path = marts / "zz_slow.sql"
        path.write_text(f"select order_id from {{{{ ref('fct_orders') }}}} cross join (select pg_sleep({seconds})) s\n")
    else:
        path = marts / "zz_slow.py"
        path.write_text(
            "import time\n\n\n"
            "def model(dbt, session):\n"
            "    upstream = dbt.ref('fct_orders')\n"
            f"    time.sleep({seconds})\n"
            "    return upstream.limit(1)\n"
        )
    return path


def log_size(project: DbtProject) -> int:
    log = project.directory / "logs" / "dbt.log"
    return log.stat().st_size if log.exists() else 0


def start_deploy(project: DbtProject, *args: str) -> subprocess.Popen[str]:
    # PGOPTIONS makes an orphaned backend notice its client died, instead of sleeping on.
    env = {**os.environ, **project.env, "PGOPTIONS": "-c client_connection_check_interval=500"}
    return subprocess.Popen(
        [sys.executable, "-m", "steward", "deploy", "--project-dir", str(project.directory),
         "--profiles-dir", str(project.directory), *args],
        cwd=project.directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_log(project: DbtProject, needle: str, process: subprocess.Popen[str], offset: int,
                 timeout: float = 180) -> None:
    """Wait until dbt logs the START of `needle`, looking only past `offset` (earlier runs' lines)."""
    log = project.directory / "logs" / "dbt.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            with log.open() as handle:
                handle.seek(offset)
                if any(needle in line and "START" in line for line in handle):
                    return
        if process.poll() is not None:
            raise AssertionError(f"deploy ended early: {process.communicate()}")
        time.sleep(0.2)
    raise AssertionError(f"no START of {needle} in {log} within {timeout}s")


@pytest.fixture(scope="module")
def crash_shop(adapter, project_factory) -> DbtProject:
    project = project_factory("examples/shop", adapter, "shop", label="crash")
    project.dbt("deps")
    done = project.cli("deploy")
    assert done.returncode == 0, done.stderr[-3000:]
    return project


def test_exit_codes_are_the_documented_ones():
    assert {cls.__name__: code for cls, code in EXIT_CODES.items()} == {
        DbtFailed.__name__: 1, LintFailed.__name__: 1, BadInput.__name__: 2, SafetyRefused.__name__: 3,
        DeployLocked.__name__: 4, RollbackFailed.__name__: 5, RecoveryRequired.__name__: 6, StorageFailed.__name__: 7}
    assert exit_code_for(ConnectionLost("lost")) == 6  # an interrupted deploy, which `steward recover` finishes


# The deploy every kill below interrupts: a view, an incremental model rebuilt in full and a table built from it,
# with fct_orders cut to its first orders, so that each differs from prod.
SELECTION = ("--select", "stg_orders+", "--full-refresh")
FEWER_ORDERS = "\nwhere order_id <= 1010\n"
FAILING_TEST = "select order_id from {{ ref('fct_orders') }} where order_id is not null\n"


@contextmanager
def changed(project: DbtProject, failing: bool = False) -> Iterator[None]:
    """fct_orders cut to its first orders; with `failing`, a test that fails once it is built."""
    model = project.directory / "models" / "marts" / "fct_orders.sql"
    test = project.directory / "tests" / "fct_orders_fails.sql"
    original = model.read_text()
    model.write_text(original.rstrip() + FEWER_ORDERS)
    if failing:
        test.parent.mkdir(exist_ok=True)
        test.write_text(FAILING_TEST)
    try:
        yield
    finally:
        model.write_text(original)
        test.unlink(missing_ok=True)


@dataclass(frozen=True)
class States:
    """Every relation of the project, row by row, at the two states a deploy may leave after `steward recover`."""

    before: dict  # as prod is: the rollback point of every deploy below
    after: dict  # as the changed deploy leaves it when it completes


@pytest.fixture(scope="module")
def states(crash_shop) -> States:
    before = crash_shop.warehouse.contents()
    with changed(crash_shop):
        done = crash_shop.cli("deploy", *SELECTION)
    assert done.returncode == 0, done.stderr[-3000:]
    after = crash_shop.warehouse.contents()
    assert after != before
    undone = crash_shop.cli("rollback", "--last")
    assert undone.returncode == 0, undone.stderr
    assert crash_shop.warehouse.contents() == before
    return States(before, after)


def killed_deploy(project: DbtProject, run: KilledRun) -> DeployRecord:
    """The record of the deploy `run` killed, as the journal has it: the latest of the target."""
    assert run.killed, f"the fault did not strike: exit {run.exit_code}\n{run.output[-3000:]}"
    return list_deploys(api_context(project))[0].record


def journalled(project: DbtProject, deploy_id: str) -> tuple[str, str]:
    """The deploy's state in the local journal and in the warehouse's."""
    context = api_context(project)
    local = LocalJournal(context.project.target_path / "steward" / "journal").records()[deploy_id]
    with opened(context.project.connection) as warehouse:
        remote = WarehouseJournal(warehouse, context.policy.rollback_schema).records()[deploy_id]
    return local.state, remote.state


def names_in_schemas(project: DbtProject) -> list[str]:
    """Every relation in the test's schemas, steward's own included."""
    placeholder = "%s" if project.adapter == "postgres" else "?"
    return sorted(name for (name,) in project.warehouse.query(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where table_schema like {placeholder}", (project.warehouse.schema_prefix + "%",)))


def leftovers(project: DbtProject) -> list[str]:
    """Relations dbt builds beside a model (__dbt_backup, __dbt_tmp) or a blue-green deploy stages."""
    return [name for name in names_in_schemas(project) if "__dbt_" in name or STAGE_SUFFIX in name]


def copies_of(project: DbtProject, deploy_id: str) -> list[str]:
    """The rollback copies of a deploy (named after its token, beside the relation or in the rollback schema)."""
    return [name for name in names_in_schemas(project) if deploy_token(deploy_id) in name]


def recover_twice(project: DbtProject, record: DeployRecord, expected: dict) -> DeployRecord:
    """`steward recover` ends the killed deploy at `expected`, journalled the same locally and in the warehouse;
    a second one changes nothing. Returns the deploy's record as recover left it."""
    first = project.cli("recover")
    assert first.returncode == 0, first.stderr
    assert project.warehouse.contents() == expected
    listed = {item.record.deploy_id: item.record for item in list_deploys(api_context(project))}
    after = listed[record.deploy_id]
    assert journalled(project, record.deploy_id) == (after.state, after.state)
    second = project.cli("recover")
    assert second.returncode == 0 and second.stdout.strip() == "Nothing to recover.", second.stdout + second.stderr
    assert project.warehouse.contents() == expected
    return after


def test_kill_during_build_then_recover_restores_everything(crash_shop, states):
    """kill -9 of a real `steward` process mid-build: dbt has replaced fct_daily_revenue and committed, its
    __dbt_backup is not dropped yet. The next deploy refuses (exit 6); recover restores every relation."""
    fault = "kill@dbt.SQLQuery:model.shop.fct_daily_revenue:drop table if exists"
    with changed(crash_shop):
        process = crash_shop.steward("deploy", *SELECTION, env={"STEWARD_TEST_FAULT": fault})
    assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]
    assert "test-only fault injection" in process.stderr.splitlines()[0]
    if crash_shop.adapter == "postgres":
        wait_until_unlocked(crash_shop)
    record = list_deploys(api_context(crash_shop))[0].record
    assert record.state == "building"
    assert [name.split(".")[1] for name in leftovers(crash_shop)] == ["fct_daily_revenue__dbt_backup"]

    # The kill is the process part; what follows runs in this process.
    blocked = crash_shop.cli("deploy")
    assert blocked.returncode == 6, blocked.stderr
    assert "was interrupted in state building" in blocked.stderr and "steward recover" in blocked.stderr

    after = recover_twice(crash_shop, record, states.before)
    assert after.state == "rolled_back" and "restored to the rollback point" in after.detail
    assert leftovers(crash_shop) == []


# Fault matrix: each row kills one forked `steward` process (steward_killed_at) at one named step, then
# recovers in this process. docs/architecture.md ("Reliability") lists the rows with their outcome.
IN_PLACE_KILLS = {
    # fault: what recover says it restored
    "kill@rollback-point.copied": "no rollback point was made: nothing had changed",
    "kill@deploy.snapshotted": "3 relation(s) restored to the rollback point",
    "kill@dbt.NodeFinished:model.shop.fct_orders": "3 relation(s) restored to the rollback point",
}


@pytest.mark.parametrize("fault", list(IN_PLACE_KILLS))
def test_a_deploy_killed_at_any_step_recovers_to_its_rollback_point(crash_shop, states, fault):
    """After the rollback point's copies are made but not committed (a half-made point), after the point, and
    between a model's build and its tests: recover ends every relation as it was, the journal says so locally
    and in the warehouse, and a second recover changes nothing."""
    with changed(crash_shop):
        record = killed_deploy(crash_shop, steward_killed_at(crash_shop, fault, "deploy", *SELECTION))
    after = recover_twice(crash_shop, record, states.before)
    assert after.state == "rolled_back" and after.detail.startswith(IN_PLACE_KILLS[fault]), after.detail
    assert leftovers(crash_shop) == []
    if fault == "kill@rollback-point.copied":
        assert record.state == "locked" and copies_of(crash_shop, record.deploy_id) == []  # the copies went too


def test_a_deploy_killed_while_restoring_recovers_to_its_rollback_point(crash_shop, states):
    """A failing test makes the deploy restore; killed inside the restore's transaction, nothing of it stays, and
    recover restores from the intact point."""
    with changed(crash_shop, failing=True):
        record = killed_deploy(crash_shop, steward_killed_at(crash_shop, "kill@restore.moved", "deploy", *SELECTION))
    assert record.state == "failed"
    after = recover_twice(crash_shop, record, states.before)
    assert after.state == "rolled_back" and "3 relation(s) restored to the rollback point" in after.detail


def test_a_restore_killed_once_committed_is_not_redone_and_later_drift_is_told_apart(crash_shop, states):
    """Killed after the restore committed, before the journal said so: recover finds the point restored (it was
    verified before it committed) and does not restore again. A change someone made to a restored relation since
    (a grant, a comment) is drift: journalled with the rollback, not a failed restore (exit 0, not 5)."""
    with changed(crash_shop, failing=True):
        record = killed_deploy(crash_shop, steward_killed_at(crash_shop, "kill@restore.committed", "deploy",
                                                             *SELECTION))
    assert record.state == "failed" and crash_shop.warehouse.contents() == states.before
    revenue = f"{crash_shop.warehouse.schema_prefix}.fct_daily_revenue"
    if crash_shop.adapter == "postgres":
        drift, undo = f"grant select on {revenue} to public", f"revoke select on {revenue} from public"
    else:
        drift, undo = f"comment on table {revenue} is 'changed since'", f"comment on table {revenue} is null"
    crash_shop.warehouse.execute(drift)
    try:
        after = recover_twice(crash_shop, record, states.before)
    finally:
        crash_shop.warehouse.execute(undo)
    assert after.state == "rolled_back", after.detail
    assert after.detail.startswith(f"already restored to the rollback point; changed since the restore, not by it: "
                                   f"{revenue}: expected "), after.detail


def test_a_deploy_killed_once_it_succeeded_stays_complete(crash_shop, states):
    """Once the journal says succeeded the deploy is complete: recover has nothing to do and every relation is the
    completed deploy's. Rolled back to leave prod as the other tests expect it."""
    with changed(crash_shop):
        record = killed_deploy(crash_shop, steward_killed_at(crash_shop, "kill@deploy.succeeded", "deploy", *SELECTION))
    assert record.state == "succeeded" and journalled(crash_shop, record.deploy_id) == ("succeeded", "succeeded")
    nothing = crash_shop.cli("recover")
    assert nothing.returncode == 0 and nothing.stdout.strip() == "Nothing to recover."
    assert crash_shop.warehouse.contents() == states.after
    assert crash_shop.cli("rollback", "--deploy-id", record.deploy_id).returncode == 0
    assert crash_shop.warehouse.contents() == states.before


@pytest.mark.parametrize("fault", ["kill@publish.swapped", "kill@publish.committed"])
def test_a_blue_green_deploy_killed_while_publishing_recovers_to_prod_as_it_was(crash_shop, states, fault):
    """Killed inside the publish's transaction nothing was published; killed after it committed, prod is the new
    set: either way recover ends prod as it was before the deploy, never part published, and drops the stage."""
    with changed(crash_shop):
        record = killed_deploy(crash_shop, steward_killed_at(crash_shop, fault, "deploy", *SELECTION,
                                                             "--strategy", "blue-green"))
    assert record.state == "publishing"
    if fault == "kill@publish.committed":
        assert {name: rows for name, rows in crash_shop.warehouse.contents().items() if STAGE_SUFFIX not in name} \
            == states.after
    after = recover_twice(crash_shop, record, states.before)
    assert after.state == "rolled_back"
    assert after.detail.startswith("no rollback point was made" if fault == "kill@publish.swapped"
                                   else "3 relation(s) restored to the rollback point"), after.detail
    assert leftovers(crash_shop) == []


def test_two_deploys_at_once_one_runs_the_other_exits_4_naming_the_holder(crash_shop):
    slow = slow_model(crash_shop, 8)
    try:
        offset = log_size(crash_shop)
        first = start_deploy(crash_shop, "--select", "zz_slow")
        wait_for_log(crash_shop, "zz_slow", first, offset)
        second = crash_shop.cli("deploy", "--select", "stg_orders")
        _, first_err = first.communicate(timeout=180)
    finally:
        slow.unlink()
    assert second.returncode == 4, second.stderr
    assert "is locked by deploy" in second.stderr and f"pid {first.pid}" in second.stderr
    assert first.returncode == 0, first_err[-3000:]
    cleanup = crash_shop.cli("deploy", "--select", "zz_slow")  # zz_slow is gone from the project now
    assert cleanup.returncode == 0, cleanup.stderr[-2000:]


def test_a_foreign_holder_is_named_not_waited_for(crash_shop):
    if crash_shop.adapter == "duckdb":
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; held = duckdb.connect(sys.argv[1]); "
             "print('ready', flush=True); time.sleep(60)", str(crash_shop.warehouse.duckdb_path)],
            stdout=subprocess.PIPE, text=True)
        expected = f"held by another process (PID {holder.pid}"
    else:
        import psycopg2
        from harness import pg_settings

        from steward.config.context import open_context
        from steward.warehouse.lock import DeployLock, LockHolder

        context = open_context(crash_shop.directory, crash_shop.directory, env={}, stdin_is_tty=False)
        key = DeployLock(context.project, LockHolder("x", "h", 0, "", ""), "unused").lock_key()
        connection = psycopg2.connect(**pg_settings())
        connection.autocommit = True
        connection.cursor().execute("select pg_advisory_lock(%s)", (key,))
        holder_pid = connection.get_backend_pid()
        expected = f"another session (PostgreSQL backend pid {holder_pid})"
    try:
        if crash_shop.adapter == "duckdb":
            assert holder.stdout.readline().strip() == "ready"
        done = crash_shop.steward("deploy", "--select", "stg_orders", timeout=60)
    finally:
        if crash_shop.adapter == "duckdb":
            holder.kill()
            holder.wait()
        else:
            connection.close()
    assert done.returncode == 4, done.stderr
    assert expected in done.stderr


def test_the_password_never_appears_in_output_logs_or_reports(crash_shop):
    if crash_shop.adapter != "postgres":
        pytest.skip("DuckDB profiles carry no password")
    outputs = [crash_shop.steward(*args) for args in (
        ("env",), ("env", "--json"), ("check",), ("deploy", "--select", "stg_orders"), ("deploys", "--json"),
        ("deploy", "--select", "nope_missing;"), ("report", "--elementary"),
        # The deploy wrote every format's file with the renderers `report` prints with: scanned below.
    )]
    for done in outputs:
        assert SENTINEL_PASSWORD not in done.stdout + done.stderr
    for path in crash_shop.directory.rglob("*"):
        if path.is_file() and "dbt_packages" not in path.parts and path.name != "profiles.yml":
            assert SENTINEL_PASSWORD.encode() not in path.read_bytes(), path

"""What only real processes can show: kill -9 mid-build and recovery, concurrent deploys, foreign lock holders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import SENTINEL_PASSWORD, DbtProject

from steward.errors import (
    EXIT_CODES,
    BadInput,
    DbtFailed,
    DeployLocked,
    LintFailed,
    RecoveryRequired,
    RollbackFailed,
    SafetyRefused,
)


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
        DeployLocked.__name__: 4, RollbackFailed.__name__: 5, RecoveryRequired.__name__: 6}


def test_kill_during_build_then_recover_restores_everything(crash_shop):
    before = crash_shop.warehouse.contents()
    model = crash_shop.directory / "models" / "marts" / "fct_orders.sql"
    original = model.read_text()
    slow = slow_model(crash_shop, 60)
    model.write_text(original.rstrip() + "\nlimit 3\n")
    try:
        offset = log_size(crash_shop)
        process = start_deploy(crash_shop)
        wait_for_log(crash_shop, "zz_slow", process, offset)  # fct_orders has been rebuilt by now
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        model.write_text(original)
        slow.unlink()

    # The kill is the process part; what follows runs in this process.
    blocked = crash_shop.cli("deploy")
    assert blocked.returncode == 6, blocked.stderr
    assert "was interrupted in state building" in blocked.stderr and "steward recover" in blocked.stderr

    recovered = crash_shop.cli("recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "Recovered deploy" in recovered.stdout
    assert crash_shop.warehouse.contents() == before

    again = crash_shop.cli("recover")
    assert again.returncode == 0 and "Nothing to recover" in again.stdout
    assert crash_shop.warehouse.contents() == before


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

"""Test harness: real dbt projects built on real DuckDB and PostgreSQL, in isolated copies.

Every dbt-backed test takes the `adapter` fixture (duckdb, postgres; spark in runner/tests/spark/). A
project is copied into a temp dir, its `local:` package path pointed at this repository, and given a
profile whose DuckDB file, Postgres schemas or Spark schemas are unique to the pytest session.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("duckdb", "postgres")
SENTINEL_PASSWORD = "stw-sentinel-9f3c1a"  # trust auth ignores it; it must never appear in output


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True)


def pg_settings() -> dict[str, Any]:
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }


def postgres_unavailable_reason() -> str | None:
    import psycopg2

    try:
        psycopg2.connect(connect_timeout=3, **pg_settings()).close()
    except psycopg2.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL unreachable at {pg_settings()['host']}:{pg_settings()['port']}: {first}"
    return None


# Where a Spark test session keeps its warehouse directory and Derby metastore (runner/tests/spark/conftest.py
# sets it): one per pytest process, since a JVM fixes both when its first SparkSession starts.
SPARK_ROOT_VARIABLE = "STEWARD_SPARK_ROOT"


def spark_parameters(root: Path) -> dict[str, str]:
    """The Spark session settings of the tests' profiles: a warehouse and a metastore under `root`, quiet logs,
    UTC, small shuffles (the fixtures are tiny), no UI."""
    return {
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.log.level": "ERROR",
        "spark.ui.showConsoleProgress": "false",
        # Derby writes derby.log into the working directory unless told where its home is.
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
    }


def spark_session() -> Any:
    """This process's SparkSession, the one dbt-spark's session mode builds with (same settings)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_parameters(Path(os.environ[SPARK_ROOT_VARIABLE])).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass
class Warehouse:
    """Direct SQL access to what a test's dbt builds wrote, for assertions."""

    adapter: str
    duckdb_path: Path | None = None
    schema_prefix: str = ""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.session() as run:
            return run(sql, params)

    @contextlib.contextmanager
    def session(self) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
        """One connection for several queries (opening one per query costs more than a small table's rows)."""
        if self.adapter == "spark":
            session = spark_session()
            yield lambda sql, params=(): [tuple(row) for row in session.sql(sql, args=list(params) or None).collect()]
            return
        if self.adapter == "duckdb":
            import duckdb

            with duckdb.connect(str(self.duckdb_path)) as connection:
                yield lambda sql, params=(): connection.execute(sql, list(params)).fetchall()
            return
        import psycopg2

        with psycopg2.connect(**pg_settings()) as connection, connection.cursor() as cursor:
            def run(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
                cursor.execute(sql, tuple(params) or None)
                return cursor.fetchall() if cursor.description else []

            yield run

    def execute(self, sql: str) -> None:
        self.query(sql)

    def scalar(self, sql: str) -> Any:
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def schemas(self) -> list[str]:
        if self.adapter == "spark":
            return sorted(str(row[0]) for row in self.query(f"show schemas like '{self.schema_prefix}*'"))
        rows = self.query(
            "select schema_name from information_schema.schemata where schema_name like %s order by 1"
            if self.adapter == "postgres"
            else "select schema_name from information_schema.schemata where schema_name like ? order by 1",
            (self.schema_prefix + "%",),
        )
        return [row[0] for row in rows]

    def spark_tables(self) -> list[tuple[str, str, str]]:
        """(schema, name, 'VIEW' or 'TABLE') of each relation in the test's schemas (Spark: no information_schema)."""
        found = []
        for schema in self.schemas():
            views = {row[1] for row in self.query(f"show views in `{schema}`")}
            found += [(schema, str(row[1]), "VIEW" if row[1] in views else "TABLE")
                      for row in self.query(f"show tables in `{schema}`") if not row[2]]
        return sorted(found)

    def catalog(self) -> list[tuple[Any, ...]]:
        """Every table and column in the test's schemas, with row counts: a fingerprint for 'nothing changed'."""
        if self.adapter == "spark":
            tables = self.spark_tables()
            columns = []
            for schema, name, _ in tables:
                for row in self.query(f"describe `{schema}`.`{name}`"):
                    if not row[0] or row[0].startswith("#"):
                        break  # the partition section repeats its columns
                    columns.append((schema, name, str(row[0]), str(row[1])))
            counts = [(schema, name, self.scalar(f"select count(*) from `{schema}`.`{name}`"))
                      for schema, name, _ in tables]
            return [*columns, *tables, *counts]
        placeholder = "%s" if self.adapter == "postgres" else "?"
        with self.session() as run:
            columns = run(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                f"where table_schema like {placeholder} order by 1, 2, 3",
                (self.schema_prefix + "%",),
            )
            tables = run(
                "select table_schema, table_name, table_type from information_schema.tables "
                f"where table_schema like {placeholder} order by 1, 2",
                (self.schema_prefix + "%",),
            )
            counts = [(schema, name, run(f'select count(*) from "{schema}"."{name}"')[0][0])
                      for schema, name, kind in tables]
        return [*columns, *tables, *counts]

    def contents(self) -> dict[str, list[tuple[str, ...]]]:
        """Every row of every user relation in the test's schemas, sorted: proof that data is the same.

        Computed here, independently of steward's own checksums; steward's bookkeeping (its
        rollback schema and rollback copies) is left out."""
        placeholder = "%s" if self.adapter == "postgres" else "?"
        contents = {}
        quote = "`" if self.adapter == "spark" else '"'
        with self.session() as run:
            if self.adapter == "spark":
                tables = [(schema, name) for schema, name, _ in self.spark_tables()]
            else:
                tables = run(
                    "select table_schema, table_name from information_schema.tables "
                    f"where table_schema like {placeholder} order by 1, 2",
                    (self.schema_prefix + "%",),
                )
            for schema, name in tables:
                if "__stw_" in name or name.startswith("steward_") or schema.endswith("steward_rollback"):
                    continue
                rows = run(f"select * from {quote}{schema}{quote}.{quote}{name}{quote}")
                contents[f"{schema}.{name}"] = sorted(tuple("" if v is None else str(v) for v in row) for row in rows)
        return contents

    def drop_all(self) -> None:
        if self.adapter == "spark":
            for schema in self.schemas():
                self.execute(f"drop schema if exists `{schema}` cascade")
        if self.adapter == "postgres":
            for schema in self.schemas():
                self.execute(f'drop schema if exists "{schema}" cascade')


@dataclass(frozen=True)
class CliResult:
    """What a CLI run left: the shape of subprocess.CompletedProcess that the tests read."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class DbtProject:
    """An isolated copy of a dbt project bound to one adapter."""

    name: str
    adapter: str
    directory: Path
    warehouse: Warehouse
    target: str = "ci"
    env: dict[str, str] = field(default_factory=dict)
    build_result: Any = None  # set by fixtures that build the project once per session
    build_invocation_id: str | None = None  # dbt's invocation id of that build
    build_manifest: dict[str, Any] | None = None  # and its manifest.json
    build_row_counts: dict[str, int] | None = None  # row count of each table that build made, right after it

    def dbt(self, *args: str, expect_success: bool | None = True, manifest: Any = None) -> Any:
        """Invoke dbt in-process; dbtRunner resets adapters around every invocation. With `manifest`
        (a `dbt parse` result) dbt skips parsing: for reruns that change only vars read at compile time."""
        from dbt.cli.main import dbtRunner

        argv = [*args, "--project-dir", str(self.directory), "--profiles-dir", str(self.directory),
                "--target", self.target]
        errors: list[str] = []

        def collect_errors(event: Any) -> None:
            if event.info.level == "error":
                errors.append(event.info.msg)

        result = dbtRunner(manifest=manifest, callbacks=[collect_errors]).invoke(argv)
        result.error_events = errors
        if expect_success is not None and bool(result.success) != expect_success:
            raise AssertionError(f"dbt {' '.join(args)}: success={result.success}, exception={result.exception}")
        return result

    def cli(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        """Run the steward CLI in this process (click's test runner), as `steward` would be run in the
        project directory: the same commands, output and exit codes, without paying a new process and
        dbt's import (3-4 s) per call. Tests about processes (kill, concurrency) use `steward`."""
        from click.testing import CliRunner

        from steward.cli import main
        from steward.dbt.invocation import release_duckdb_file

        command = list(args)
        if not any(a in args for a in ("--help", "--version")):
            command += ["--project-dir", str(self.directory), "--profiles-dir", str(self.directory)]
        with contextlib.chdir(self.directory):
            result = CliRunner().invoke(main, command, env={**self.env, **(env or {})})
        # A finished `steward` process no longer holds the DuckDB file; this one must let go of it too.
        release_duckdb_file()
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))
        return CliResult(result.exit_code, result.stdout, stderr)

    def steward(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the steward CLI as a person would, in a fresh process."""
        command = [sys.executable, "-m", "steward", *args]
        if not any(a in args for a in ("--help", "--version")):
            command += ["--project-dir", str(self.directory), "--profiles-dir", str(self.directory)]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd or self.directory, env={**os.environ, **self.env, **(env or {})})


@dataclass(frozen=True)
class KilledRun:
    """How a child process armed with a fault ended, and what it printed."""

    exit_code: int  # negative: the signal that ended it (-9: the fault's SIGKILL)
    output: str

    @property
    def killed(self) -> bool:
        return self.exit_code == -signal.SIGKILL


def steward_killed_at(project: DbtProject, fault: str, *args: str, timeout: float = 300) -> KilledRun:
    """Run `steward <args>` in a child process armed with STEWARD_TEST_FAULT=<fault>, and wait for it to end.

    The child is forked from a process that has imported steward and dbt but never run dbt (`zygote`), so it pays
    neither a new interpreter nor dbt's import (4-6 s a process). It is a real process all the same: it dies by
    the signal, the kernel releases its file lock, PostgreSQL ends its sessions. (Not forked from this process:
    after dbt has parsed here, a forked child's parse waits forever on dbt's static parser's threads, which a
    fork does not copy.) When it is gone, the target's lock is free again: PostgreSQL releases the advisory lock
    when it notices the session ended, waited for here, not slept on."""
    output = project.directory / "logs" / f"steward-{fault.replace('/', '_')[:80]}.txt"
    output.parent.mkdir(exist_ok=True)
    child = zygote().Process(target=run_armed_cli, args=(str(project.directory), dict(project.env), fault, args,
                                                         str(output)))
    child.start()
    child.join(timeout)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise AssertionError(f"steward {' '.join(args)} armed with {fault} still ran after {timeout}s: "
                             f"{output.read_text()[-3000:]}")
    if project.adapter == "postgres":
        wait_until_unlocked(project)
    return KilledRun(child.exitcode, output.read_text())


@functools.cache
def zygote() -> Any:
    """Where armed steward processes are forked from: multiprocessing's fork server, with steward and dbt imported."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["steward.cli", "dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.postgres"])
    return context


def run_armed_cli(directory: str, env: dict[str, str], fault: str, args: Sequence[str], output: str) -> None:
    """The armed child: `steward <args>` in `directory`, its output in `output`, its exit code as the process's."""
    code = 70
    with open(output, "w") as stream:
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
        sys.stdout = sys.stderr = stream
        try:
            os.environ.update({**env, "STEWARD_TEST_FAULT": fault})
            os.chdir(directory)
            from steward.cli import main

            main([*args, "--project-dir", directory, "--profiles-dir", directory], prog_name="steward")
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
        stream.flush()
    os._exit(code)


def wait_until_unlocked(project: DbtProject, timeout: float = 30) -> None:
    """Until no session holds the project's deploy lock (PostgreSQL ends a dead client's session at once)."""
    from steward.config.context import open_context
    from steward.warehouse.lock import DeployLock, LockHolder

    context = open_context(project.directory, project.directory, env={}, stdin_is_tty=False)
    key = DeployLock(context.project, LockHolder("x", "h", 0, "", ""), "unused").lock_key()
    deadline = time.monotonic() + timeout
    while project.warehouse.query("select 1 from pg_locks where locktype = 'advisory' and granted "
                                  "and ((classid::bigint << 32) | objid::bigint) = %s", (key,)):
        assert time.monotonic() < deadline, "the killed process's session still holds the deploy lock"
        time.sleep(0.05)


def dbt_error_text(result: Any) -> str:
    """The error dbt reported, whether raised (compile errors) or only logged (run-operation)."""
    parts = [str(result.exception)] if result.exception else []
    parts += getattr(result, "error_events", [])
    return "\n".join(parts)


def make_project(source: Path, destination: Path, adapter: str, schema_prefix: str, profile_name: str) -> DbtProject:
    """Copy `source` to `destination`, point its local package at this repo, and write its profile."""
    shutil.copytree(source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        "target", "dbt_packages", "logs", "*.duckdb", "*.duckdb.wal", "package-lock.yml"))
    packages_file = destination / "packages.yml"
    if packages_file.exists():
        packages = yaml.safe_load(packages_file.read_text()) or {}
        for package in packages.get("packages") or []:
            if "local" in package:
                package["local"] = str((source / package["local"]).resolve())
        packages_file.write_text(yaml.safe_dump(packages))
    schema = _schema_name(schema_prefix, destination.name)
    duckdb_path = destination / "warehouse.duckdb"
    if adapter == "duckdb":
        output: dict[str, Any] = {"type": "duckdb", "path": str(duckdb_path), "schema": schema, "threads": 2}
    elif adapter == "spark":
        # One thread: the session's local[*] executors already use both cores.
        output = {"type": "spark", "method": "session", "host": "localhost", "schema": schema, "threads": 1,
                  "server_side_parameters": spark_parameters(Path(os.environ[SPARK_ROOT_VARIABLE]))}
    else:
        output = {"type": "postgres", **pg_settings(), "password": SENTINEL_PASSWORD, "schema": schema,
                  "threads": 2}
    # `prod` is the same warehouse under a prod-tier name, for the safety rules.
    profile = {profile_name: {"target": "ci", "outputs": {"ci": output, "prod": output}}}
    (destination / "profiles.yml").write_text(yaml.safe_dump(profile))
    if not (destination / "steward.yml").exists():
        # Keep steward's rollback schema under the session prefix, so the session's cleanup drops it.
        (destination / "steward.yml").write_text(yaml.safe_dump({"rollback": {"schema": f"{schema}_steward_rollback"}}))
    warehouse = Warehouse(adapter=adapter, duckdb_path=duckdb_path if adapter == "duckdb" else None,
                          schema_prefix=schema)
    return DbtProject(name=destination.name, adapter=adapter, directory=destination, warehouse=warehouse)


def _schema_name(prefix: str, project: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"{prefix}_{project}".lower())

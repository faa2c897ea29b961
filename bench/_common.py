"""Shared plumbing for the benchmarks: adapters, connections, synthetic tables, timing, tables, cleanup.

Every benchmark owns a unique name prefix (`stwbench_<hex>`): its PostgreSQL schemas start with it and
are dropped when the benchmark ends, also on an exception, Ctrl-C or SIGTERM. DuckDB files live in a
temporary directory that is removed the same way.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from steward.config.project import Connection
from steward.warehouse import Relation, Warehouse, connect
from steward.warehouse.rollback import RollbackStore

REPO_ROOT = Path(__file__).resolve().parents[1]
SHOP = REPO_ROOT / "examples" / "shop"
BIN = Path(sys.executable).parent
ADAPTERS = ("duckdb", "postgres")

os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
os.environ["DBT_VERSION_CHECK"] = "False"

__all__ = ["Connection", "Relation", "RollbackStore", "Warehouse"]


# -- command line --------------------------------------------------------------------------------------
def parser(description: str) -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    result.add_argument("--adapter", choices=(*ADAPTERS, "both"), default="both", help="warehouse(s) to measure")
    return result


def adapters(choice: str) -> list[str]:
    return list(ADAPTERS) if choice == "both" else [choice]


def rows_arg(text: str) -> int:
    """A row count; accepts 10_000, 10000, 10k, 1M."""
    cleaned = text.replace("_", "").strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(cleaned[-1:], 1)
    value = int(cleaned[:-1] if factor > 1 else cleaned) * factor
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: need at least one row")
    return value


# -- the machine -------------------------------------------------------------------------------------
def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.1f} GiB RAM"


def versions(adapter_list: Sequence[str]) -> str:
    parts = [f"dbt-core {version('dbt-core')}"]
    if "duckdb" in adapter_list:
        parts.append(f"duckdb {version('duckdb')}")
    if "postgres" in adapter_list:
        try:
            with warehouse("postgres", schema="public") as wh:
                parts.append(f"PostgreSQL {wh.scalar('show server_version')}")
        except Exception as exc:  # the header must not stop the benchmark; the benchmark itself will fail loudly
            parts.append(f"PostgreSQL unreachable ({type(exc).__name__})")
    return ", ".join(parts)


def load() -> str:
    """The 1-minute load average: other work on the machine skews wall-clock figures."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def header(title: str, adapter_list: Sequence[str], settings: str) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(f"# {title}")
    print(f"# {now}  |  {machine()}  |  {versions(adapter_list)}")
    print(f"# {settings}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}  |  at start: {load()}")
    print(flush=True)


def footer(started: float) -> None:
    print(f"# finished in {time.perf_counter() - started:.0f} s; at end: {load()}")


# -- connections -----------------------------------------------------------------------------------------
def pg_settings(schema: str) -> dict[str, Any]:
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "database": os.environ.get("PGDATABASE", "test"),
        "schema": schema,
    }


def connection(adapter: str, *, duckdb_path: Path | None = None, schema: str = "main") -> Connection:
    if adapter == "duckdb":
        if duckdb_path is None:
            raise ValueError("duckdb needs a file path")
        return Connection(adapter_type="duckdb", settings={"path": str(duckdb_path), "schema": schema})
    return Connection(adapter_type="postgres", settings=pg_settings(schema))


@contextmanager
def warehouse(adapter: str, *, duckdb_path: Path | None = None, schema: str = "main") -> Iterator[Warehouse]:
    """steward's own Warehouse (autocommit; transaction() opens a block), closed on exit."""
    wh = connect(connection(adapter, duckdb_path=duckdb_path, schema=schema))
    try:
        yield wh
    finally:
        wh.close()


# -- isolation and cleanup -----------------------------------------------------------------------------
def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def sandbox(label: str) -> Iterator[tuple[str, Path]]:
    """A unique name prefix and a temp dir; on exit (also on failure) drop `<prefix>*` schemas and the dir.

    SIGTERM is turned into SystemExit so `finally` blocks run; subprocess.run kills its child on the way."""
    prefix = f"stwbench_{secrets.token_hex(4)}"
    directory = Path(tempfile.mkdtemp(prefix=f"{prefix}_{label}_"))
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        yield prefix, directory
    finally:
        try:
            dropped = drop_postgres_schemas(prefix)
            if dropped:
                print(f"cleanup: dropped PostgreSQL schemas {', '.join(dropped)}", file=sys.stderr)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous)


def drop_postgres_schemas(prefix: str) -> list[str]:
    """Drop every schema whose name starts with prefix; quietly nothing when PostgreSQL is not reachable."""
    import psycopg2

    settings = pg_settings("public")
    try:
        raw = psycopg2.connect(host=settings["host"], port=settings["port"], user=settings["user"],
                               password=settings["password"] or None, dbname=settings["database"],
                               connect_timeout=5, options="-c lock_timeout=30s")
    except psycopg2.OperationalError:
        return []
    raw.autocommit = True
    try:
        with raw.cursor() as cursor:
            cursor.execute("select nspname from pg_namespace where left(nspname, %s) = %s order by 1",
                           (len(prefix), prefix))
            schemas = [row[0] for row in cursor.fetchall()]
            for schema in schemas:
                cursor.execute(f'drop schema if exists "{schema}" cascade')
        return schemas
    finally:
        raw.close()


# -- synthetic data ----------------------------------------------------------------------------------------
def create_table(wh: Warehouse, relation: Relation, rows: int, variant: int = 0, steady: bool = True) -> None:
    """A table of `rows` rows: id bigint, label text, amount numeric(12,2), created_at timestamp.

    Generated in the warehouse (DuckDB range(), PostgreSQL generate_series). `variant` changes every
    value but the id, as a rebuild of the same model with new source data would. `steady` settles the
    new table (see settle); a rebuild as dbt makes it is left unsettled."""
    target = wh.qualified(relation)
    if wh.adapter_type == "duckdb":
        source = f"range(1, {rows + 1}) as g(i)"
        label = f"'item-' || cast((i + {variant}) % 1000 as varchar)"
        stamp = f"timestamp '2026-01-01' + to_seconds((i * 37 + {variant}) % 31536000)"
    else:
        source = f"generate_series(1, {rows}::bigint) as g(i)"
        label = f"'item-' || ((i + {variant}) % 1000)::text"
        stamp = f"timestamp '2026-01-01' + make_interval(secs => (i * 37 + {variant}) % 31536000)"
    amount = f"cast(((i * 7919 + {variant}) % 1000000) / 100.0 as numeric(12, 2))"
    wh.execute(f"create table {target} as select cast(i as bigint) as id, {label} as label, "
               f"{amount} as amount, {stamp} as created_at from {source}")
    if steady:
        settle(wh, relation)


def settle(wh: Warehouse, relation: Relation) -> None:
    """Bring a fresh table to a steady state, so the first timed scan does not pay one-off costs.

    PostgreSQL: VACUUM ANALYZE sets hint bits and the visibility map (else the first reader rewrites
    every page). DuckDB: CHECKPOINT moves the WAL into the database file."""
    if wh.adapter_type == "postgres":
        wh.execute(f"vacuum analyze {wh.qualified(relation)}")
    else:
        wh.execute("checkpoint")


def relation_size(wh: Warehouse, relation: Relation) -> str:
    if wh.adapter_type == "postgres":
        return str(wh.scalar("select pg_size_pretty(pg_total_relation_size(%s::regclass))", (wh.qualified(relation),)))
    return "-"


# -- timing and printing -------------------------------------------------------------------------------------
def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """min-max of repeated samples, to show how noisy a median is."""
    return f"{min(values):.3f}-{max(values):.3f}" if len(values) > 1 else "-"


def ratio(numerator: float, denominator: float, digits: int = 2) -> str:
    return f"{numerator / denominator:.{digits}f}x" if denominator > 0 else "n/a"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-markdown table, readable in a terminal and pasteable into docs."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def deploy_id() -> str:
    """A fresh deploy id in steward's format, YYYYmmddTHHMMSSZ-<6 hex>."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


# -- the example project ------------------------------------------------------------------------------
def shop_project(directory: Path, adapter: str, prefix: str, threads: int = 1) -> Path:
    """A copy of examples/shop in `directory`/shop with its own profile and policy; returns the project dir.

    packages.yml points `local:` at this repository; the DuckDB file lives in the copy; on PostgreSQL the
    models land in `<prefix>_shop`. steward.yml puts the rollback schema at `<prefix>_rollback`."""
    project = directory / "shop"
    shutil.copytree(SHOP, project, ignore=shutil.ignore_patterns(
        "target", "dbt_packages", "logs", "package-lock.yml", "*.duckdb", "*.duckdb.wal", "*.lock", "steward.yml"))
    (project / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    if adapter == "duckdb":
        output: dict[str, Any] = {"type": "duckdb", "path": str(project / "shop.duckdb"), "schema": "main"}
    else:
        settings = pg_settings(f"{prefix}_shop")
        output = {"type": "postgres", "host": settings["host"], "port": settings["port"], "user": settings["user"],
                  "password": settings["password"], "dbname": settings["database"], "schema": settings["schema"]}
    output["threads"] = threads
    (project / "profiles.yml").write_text(yaml.safe_dump({"shop": {"target": "bench", "outputs": {"bench": output}}}))
    (project / "steward.yml").write_text(yaml.safe_dump({"version": 1, "rollback": {"schema": f"{prefix}_rollback"}}))
    return project


def run(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """Run a command to completion; its wall-clock seconds. Output is kept only to show on failure."""
    return run_measured(command, cwd, env)[0]


def run_measured(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Run a command to completion; (wall-clock seconds, CPU seconds of the command and its children).

    CPU time (user + sys) barely moves when other work competes for the cores, so it backs up a wall-clock
    comparison on a busy machine; it leaves out the warehouse server's own work (PostgreSQL runs elsewhere)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def project_args(project: Path) -> list[str]:
    return ["--project-dir", str(project), "--profiles-dir", str(project), "--target", "bench"]


def write_bench_profile(project: Path, adapter: str, schema: str, profile_name: str) -> None:
    """packages.yml installing this repository, and a one-target profile for the adapter (threads 1)."""
    (project / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    if adapter == "duckdb":
        output: dict[str, Any] = {"type": "duckdb", "path": str(project / "bench.duckdb"), "schema": schema}
    else:
        settings = pg_settings(schema)
        output = {"type": "postgres", "host": settings["host"], "port": settings["port"], "user": settings["user"],
                  "password": settings["password"], "dbname": settings["database"], "schema": schema}
    output["threads"] = 1
    (project / "profiles.yml").write_text(yaml.safe_dump(
        {profile_name: {"target": "bench", "outputs": {"bench": output}}}))


class BenchDbt:
    """dbt in-process on a bench project, one invocation at a time; `capture` sees every event."""

    def __init__(self, project: Path, capture: Callable[[Any], None]) -> None:
        from dbt.cli.main import dbtRunner

        self.project = project
        self.capture = capture
        self.runner = dbtRunner(callbacks=[capture])

    def invoke(self, *args: str) -> Any:
        self.capture.reset()  # type: ignore[attr-defined]
        result = self.runner.invoke([*args, "--project-dir", str(self.project), "--profiles-dir",
                                     str(self.project), "--target", "bench", "--quiet"])
        if not result.success:
            raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or result.result}")
        return result


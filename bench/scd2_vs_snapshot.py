"""steward's `scd2` materialization against dbt's own snapshot, on the plain case both handle.

Per adapter, one temporary dbt project (packages.yml `local:` this repository) with
  * a source table `customers` (id, name, amount, status, updated_at) of N keys, made by plain SQL;
  * `hist_scd2`: materialized='scd2', unique_key='id', source_kind='state', updated_at='updated_at'
    (every run compares the whole source, as dbt snapshot does);
  * `hist_scd2_watermark`: the same with loaded_at='updated_at' (runs read only the source rows past the
    stored watermark minus the default 1h grace window);
  * `hist_snapshot`: a YAML dbt snapshot (strategy timestamp, unique_key id, updated_at updated_at).
Batch 0 builds both. Each of B batches then changes a deterministic fraction of the keys by SQL (new
values and a later updated_at) and runs each of the three in-process (dbtRunner), rotating which goes
first. A last run of each with the source unchanged gives the no-change cost. Finally each scd2 history
is compared with the snapshot's row for row.

Figures per node run: `time` is the node's execution_time in run_results (what dbt reports for the
node: compile + materialization, all its SQL); `stmts` is the number of dbt SQLQuery events whose
node_info.unique_id is the node (every statement dbt sent on the node's behalf, BEGIN included;
COMMITs are SQLCommit events and not counted); `sql` is the sum of the matching SQLQueryStatus
elapsed times. The slowest statements of the scd2 runs are listed to show where its time goes.

    .venv/bin/python bench/scd2_vs_snapshot.py [--adapter duckdb|postgres|both] [--keys 1000000]
        [--batches 10] [--change-fraction 0.1] [--postgres-keys N]
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _common import (
    BenchDbt,
    footer,
    header,
    median,
    parser,
    pg_settings,
    rows_arg,
    sandbox,
    table,
    write_bench_profile,
)
from _common import adapters as chosen_adapters

SNAPSHOT = "snapshot.scd2_bench.hist_snapshot"
# label -> (dbt command, unique_id, name, the scd2 config beyond unique_key/source_kind/updated_at)
NODES = {
    "scd2": ("run", "model.scd2_bench.hist_scd2", "hist_scd2", ""),
    "scd2_watermark": ("run", "model.scd2_bench.hist_scd2_watermark", "hist_scd2_watermark",
                       ", loaded_at='updated_at'"),
    "snapshot": ("snapshot", SNAPSHOT, "hist_snapshot", None),
}
SCD2_LABELS = ("scd2", "scd2_watermark")
SOURCE = "customers"
STATUSES = ("active", "paused", "closed", "vip")


# -- statement capture ---------------------------------------------------------------------------------
@dataclass
class NodeRun:
    seconds: float = 0.0  # the node's execution_time
    statements: int = 0
    sql_seconds: float = 0.0
    timed: list[tuple[float, str]] = field(default_factory=list)  # (elapsed, sql) per statement


class Capture:
    """A dbtRunner callback: SQLQuery / SQLQueryStatus events per node unique_id."""

    def __init__(self) -> None:
        self.runs: dict[str, NodeRun] = defaultdict(NodeRun)
        self.pending: dict[str, str] = {}

    def reset(self) -> None:
        self.runs = defaultdict(NodeRun)
        self.pending = {}

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if name not in ("SQLQuery", "SQLQueryStatus"):
            return
        node = getattr(getattr(event.data, "node_info", None), "unique_id", "") or ""
        if not node:
            return
        if name == "SQLQuery":
            self.runs[node].statements += 1
            self.pending[node] = event.data.sql
        else:
            elapsed = float(event.data.elapsed)
            self.runs[node].sql_seconds += elapsed
            self.runs[node].timed.append((elapsed, self.pending.pop(node, "?")))


# -- the dbt project -----------------------------------------------------------------------------------
def write_project(project: Path, adapter: str, schema: str) -> None:
    project.mkdir(parents=True)
    (project / "models").mkdir()
    (project / "snapshots").mkdir()
    (project / "dbt_project.yml").write_text(yaml.safe_dump({
        "name": "scd2_bench", "version": "1.0.0", "config-version": 2, "profile": "scd2_bench",
        "model-paths": ["models"], "snapshot-paths": ["snapshots"], "target-path": "target",
    }, sort_keys=False))
    write_bench_profile(project, adapter, schema, "scd2_bench")
    (project / "models" / "sources.yml").write_text(yaml.safe_dump({"version": 2, "sources": [
        {"name": "bench", "schema": schema, "tables": [{"name": SOURCE}]}]}, sort_keys=False))
    for label in SCD2_LABELS:
        _, _, name, extra = NODES[label]
        (project / "models" / f"{name}.sql").write_text(
            "{{ config(materialized='scd2', unique_key='id', source_kind='state', updated_at='updated_at'"
            f"{extra}) }}}}\n"
            f"select id, name, amount, status, updated_at from {{{{ source('bench', '{SOURCE}') }}}}\n")
    (project / "snapshots" / "hist_snapshot.yml").write_text(yaml.safe_dump({"snapshots": [{
        "name": "hist_snapshot", "relation": f"source('bench', '{SOURCE}')",
        "config": {"unique_key": "id", "strategy": "timestamp", "updated_at": "updated_at"}}]}, sort_keys=False))


class Dbt(BenchDbt):
    def __init__(self, project: Path) -> None:
        super().__init__(project, Capture())

    def node(self, command: str, unique_id: str, name: str) -> NodeRun:
        result = self.invoke(command, "--select", name)
        [node_result] = [r for r in result.result.results if r.node.unique_id == unique_id]
        run = self.capture.runs[unique_id]
        run.seconds = float(node_result.execution_time)
        return run

    def run(self, label: str) -> NodeRun:
        command, unique_id, name, _ = NODES[label]
        return self.node(command, unique_id, name)


# -- the source, by plain SQL --------------------------------------------------------------------------
class Source:
    """Runs SQL on the warehouse outside dbt: DuckDB opened per use (dbt needs the file), psycopg2 kept."""

    def __init__(self, adapter: str, schema: str, duckdb_path: Path) -> None:
        self.adapter, self.schema, self.duckdb_path = adapter, schema, duckdb_path
        self.pg: Any = None
        if adapter == "postgres":
            import psycopg2

            s = pg_settings(schema)
            self.pg = psycopg2.connect(host=s["host"], port=s["port"], user=s["user"],
                                       password=s["password"] or None, dbname=s["database"])
            self.pg.autocommit = True

    @contextmanager
    def cursor(self) -> Any:
        if self.pg is not None:
            with self.pg.cursor() as cursor:
                yield cursor
            return
        import duckdb

        con = duckdb.connect(str(self.duckdb_path))
        try:
            yield con
        finally:
            con.close()

    def execute(self, *statements: str) -> None:
        with self.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def settle(self) -> None:
        """VACUUM ANALYZE the source (PostgreSQL) / CHECKPOINT (DuckDB), so each batch starts steady."""
        self.execute(f"vacuum analyze {self.schema}.{SOURCE}" if self.pg is not None else "checkpoint")

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()

    def create(self, keys: int) -> None:
        series = (f"range(1, {keys + 1}) as g(i)" if self.adapter == "duckdb"
                  else f"generate_series(1, {keys}::bigint) as g(i)")
        statuses = "array[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
        pick = f"({statuses})[cast(i % {len(STATUSES)} as integer) + 1]"
        self.execute(
            f"create schema if not exists {self.schema}",
            f"create table {self.schema}.{SOURCE} as select cast(i as bigint) as id, "
            f"'customer-' || cast(i as varchar) as name, cast((i * 7919 % 1000000) / 100.0 as numeric(12, 2)) "
            f"as amount, {pick} as status, timestamp '2024-01-01' + (i % 86400) * interval '1 second' "
            f"as updated_at from {series}")
        self.settle()

    def change(self, batch: int, fraction: float) -> int:
        """Batch b changes the keys with (id * 271 + b * 919) % 1000 < fraction * 1000: a deterministic
        ~fraction of the keys, a different (overlapping) set per batch. New name, amount and status, and an
        updated_at later than any before it."""
        per_mille = round(fraction * 1000)
        chosen = f"(id * 271 + {batch * 919}) % 1000 < {per_mille}"
        statuses = "array[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
        with self.cursor() as cursor:
            cursor.execute(
                f"update {self.schema}.{SOURCE} set name = 'customer-' || cast(id as varchar) || '-b{batch}', "
                f"amount = amount + {batch}, "
                f"status = ({statuses})[cast((id + {batch}) % {len(STATUSES)} as integer) + 1], "
                f"updated_at = timestamp '2025-01-01' + interval '{batch} day' + (id % 3600) * interval '1 second' "
                f"where {chosen}")
            changed = cursor.rowcount
        self.settle()
        return int(changed)

    def compare(self, table: str) -> tuple[bool, int, int]:
        """(identical, scd2 rows, snapshot rows): (id, valid_from, valid_to) as multisets, both ways."""
        ours = f"select id, valid_from, valid_to from {self.schema}.{table}"
        theirs = f"select id, dbt_valid_from, dbt_valid_to from {self.schema}.hist_snapshot"
        [(ours_rows, theirs_rows, missing, extra)] = self.query(
            f"select (select count(*) from {self.schema}.{table}), "
            f"(select count(*) from {self.schema}.hist_snapshot), "
            f"(select count(*) from ({theirs} except all {ours}) a), "
            f"(select count(*) from ({ours} except all {theirs}) b)")
        return ours_rows == theirs_rows and missing == 0 and extra == 0, int(ours_rows), int(theirs_rows)


# -- the benchmark ---------------------------------------------------------------------------------------------
def short(sql: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"^\s*/\*.*?\*/", "", sql, flags=re.S)).strip()
    text = re.sub(r'"?stwbench_[0-9a-f]+_[a-z0-9_]+"?', "<schema>", text)
    return text[:110] + ("..." if len(text) > 110 else "")


def dump(directory: Path | None, adapter: str, label: str, run: NodeRun) -> None:
    """Write each statement of one node run to <directory>/<adapter>_<label>.sql, for EXPLAIN ANALYZE."""
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(f"-- statement {i + 1}: {elapsed:.3f} s\n{sql.strip()};\n\n"
                   for i, (elapsed, sql) in enumerate(run.timed))
    (directory / f"{adapter}_{label}.sql").write_text(text)


def measure(adapter: str, keys: int, batches: int, fraction: float, dump_dir: Path | None) -> dict[str, Any]:
    with sandbox(f"scd2_{adapter}") as (prefix, directory):
        schema = f"{prefix}_scd2" if adapter == "postgres" else "main"
        project = Path(directory) / "project"
        write_project(project, adapter, schema)
        dbt = Dbt(project)
        dbt.invoke("deps")
        source = Source(adapter, schema, project / "bench.duckdb")
        try:
            started = time.perf_counter()
            source.create(keys)
            print(f"[{adapter}] source {schema}.{SOURCE}: {keys:,} keys in {time.perf_counter() - started:.1f} s",
                  flush=True)
            labels = list(NODES)
            runs: dict[str, list[NodeRun]] = {label: [] for label in labels}
            initial = {label: dbt.run(label) for label in labels}
            print(f"[{adapter}] batch 0 (initial build): "
                  + ", ".join(f"{label} {run.seconds:.2f} s" for label, run in initial.items()), flush=True)
            for batch in range(1, batches + 1):
                changed = source.change(batch, fraction)
                order = labels[batch % len(labels):] + labels[:batch % len(labels)]
                for label in order:
                    runs[label].append(dbt.run(label))
                print(f"[{adapter}] batch {batch}: {changed:,} keys changed; "
                      + ", ".join(f"{label} {runs[label][-1].seconds:.2f} s ({runs[label][-1].statements} stmts)"
                                  for label in labels) + f"; {order[0]} first", flush=True)
            same = {label: dbt.run(label) for label in labels}
            for label in labels:
                dump(dump_dir, adapter, f"{label}_batch{batches}", runs[label][-1])
                dump(dump_dir, adapter, f"{label}_nochange", same[label])
            print(f"[{adapter}] no-change re-run: "
                  + ", ".join(f"{label} {run.seconds:.3f} s" for label, run in same.items()), flush=True)
            compared = {label: source.compare(NODES[label][2]) for label in SCD2_LABELS}
        finally:
            source.close()
    return {"adapter": adapter, "keys": keys, "batches": batches, "initial": initial, "runs": runs,
            "same": same, "compared": compared}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(r: dict[str, Any]) -> None:
    adapter, runs, same = r["adapter"], r["runs"], r["same"]
    times = {k: [run.seconds for run in v] for k, v in runs.items()}
    sql = {k: [run.sql_seconds for run in v] for k, v in runs.items()}
    stmts = {k: sorted({run.statements for run in v}) for k, v in runs.items()}
    print(f"\n## {adapter}: {r['keys']:,} keys, {r['batches']} batches\n")
    rows = []
    for k in NODES:
        rows.append([k, r["initial"][k].seconds, median(times[k]), f"{min(times[k]):.3f}-{max(times[k]):.3f}",
                     sum(times[k]), median(sql[k]), same[k].seconds,
                     "/".join(str(n) for n in stmts[k]), same[k].statements])
    print(table(["node", "batch 0 s", "median batch s", "min-max", "total s", "median sql s", "no-change s",
                 "stmts/batch run", "stmts no-change"], rows))
    targets = []
    for k in SCD2_LABELS:
        ratio = sum(times[k]) / sum(times["snapshot"])
        statements_ok = (max(stmts[k]) <= min(stmts["snapshot"])
                         and same[k].statements <= same["snapshot"].statements)
        identical, ours_rows, theirs_rows = r["compared"][k]
        targets += [
            [f"{k}/snapshot total time <= 0.5", f"{ratio:.2f}", verdict(ratio <= 0.5)],
            [f"{k} no-change re-run <= 0.3 s (DuckDB)", f"{same[k].seconds:.3f} s",
             verdict(same[k].seconds <= 0.3) if adapter == "duckdb" else "n/a (DuckDB target)"],
            [f"{k} statements <= snapshot statements",
             f"{max(stmts[k])} vs {min(stmts['snapshot'])} (no-change {same[k].statements} vs "
             f"{same['snapshot'].statements})", verdict(statements_ok)],
            [f"{k} history identical to the snapshot's", f"{'yes' if identical else 'no'} ({ours_rows:,} rows, "
             f"snapshot {theirs_rows:,} rows)", verdict(identical)],
        ]
    print()
    print(table(["target", "figure", "verdict"], targets))
    for k in NODES:
        print(f"\n{k} batch runs, statement by statement ({adapter}; median s over batches, text of the last run):")
        last = runs[k][-1].timed
        for i, (_, statement) in enumerate(last):
            values = [run.timed[i][0] for run in runs[k] if len(run.timed) > i]
            print(f"  {i + 1:2d}. {median(values):8.3f} s  {short(statement)}")
    print(flush=True)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--keys", type=rows_arg, default=1_000_000, help="source keys")
    p.add_argument("--postgres-keys", type=rows_arg, default=None,
                   help="source keys on PostgreSQL (default: --keys)")
    p.add_argument("--batches", type=int, default=10, help="change batches after the initial build")
    p.add_argument("--change-fraction", type=float, default=0.1, help="fraction of keys changed per batch")
    p.add_argument("--dump-sql", type=Path, default=None,
                   help="write the statements of the last batch and no-change runs of each node to this directory")
    args = p.parse_args()
    if not 0 < args.change_fraction <= 1:
        p.error("--change-fraction must be in (0, 1]")
    started = time.perf_counter()
    adapter_list = chosen_adapters(args.adapter)
    pg_keys = args.postgres_keys or args.keys
    header("scd2 materialization vs dbt snapshot (plain timestamp case)", adapter_list,
           f"keys {args.keys:,} (PostgreSQL: {pg_keys:,}), batches {args.batches}, change fraction "
           f"{args.change_fraction}; time = node execution_time from run_results; stmts = dbt SQLQuery events "
           f"with the node's unique_id (dbtRunner callback); sql = sum of their SQLQueryStatus elapsed")
    results = [measure(a, pg_keys if a == "postgres" else args.keys, args.batches, args.change_fraction,
                       args.dump_sql) for a in adapter_list]
    for r in results:
        report(r)
    footer(started)


if __name__ == "__main__":
    main()

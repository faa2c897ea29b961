"""steward's `scd2` materialization against dbt's own snapshot, on the plain case both handle.

Per adapter and run, one temporary dbt project (packages.yml `local:` this repository) with
  * a source table `customers` (id, name, amount, status, updated_at) of N keys, made by plain SQL, and
    `customer_events`, the same rows as a change log with a load time (loaded_at) to which each batch
    appends only its new events;
  * `hist_scd2`: materialized='scd2', unique_key='id', source_kind='state', updated_at='updated_at'
    (every run compares the whole source, as dbt snapshot does);
  * `hist_scd2_watermark`: the same with loaded_at='updated_at' (runs read only the source rows past the
    stored watermark minus the default 1h grace window);
  * `hist_scd2_changelog`: source_kind='changelog' over customer_events, loaded_at='loaded_at';
  * `hist_snapshot`: a YAML dbt snapshot of `customers` (strategy timestamp, unique_key id, updated_at).
Batch 0 builds each. Each of B batches then changes a deterministic fraction of the keys by SQL (new
values and a later updated_at) and runs each node in-process (dbtRunner), rotating which goes first.
Three last runs of each with the source unchanged give the no-change cost (median). Finally each scd2
history is compared with the snapshot's row for row (id, valid_from, valid_to).

Three measurements: the main run (--change-fraction, default 1 %: watermark, change log, snapshot), the
regression guard (--full-fraction, default 10 %: the full compare and the snapshot) and, on DuckDB, the
scale curve (the watermark alone at --scale-keys, --scale-batches batches each), plotted to --plot.

Figures per node run: `time` is the node's execution_time in run_results (what dbt reports for the
node: compile + materialization, all its SQL); `stmts` is the number of dbt SQLQuery events whose
node_info.unique_id is the node (every statement dbt sent on the node's behalf, BEGIN included;
COMMITs are SQLCommit events and not counted); `sql` is the sum of the matching SQLQueryStatus
elapsed times. Each scd2 node's statements are listed with their median time, to show where it goes.

    .venv/bin/python bench/scd2_vs_snapshot.py [--adapter duckdb|postgres|both] [--keys 1000000]
        [--batches 10] [--change-fraction 0.01] [--full-fraction 0.1] [--scale-keys 100k,1M,5M]
        [--skip full,scale] [--plot docs/scd2_scale.png]
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
    REPO_ROOT,
    BenchDbt,
    footer,
    header,
    load,
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
SOURCE = "customers"
EVENTS = "customer_events"
STATE = "select id, name, amount, status, updated_at from {{ source('bench', 'customers') }}"
LOG = "select id, name, amount, status, updated_at, loaded_at from {{ source('bench', 'customer_events') }}"
# label -> (dbt command, unique_id, name, the scd2 config beyond unique_key and updated_at, its select)
NODES = {
    "scd2": ("run", "model.scd2_bench.hist_scd2", "hist_scd2", "source_kind='state'", STATE),
    "scd2_watermark": ("run", "model.scd2_bench.hist_scd2_watermark", "hist_scd2_watermark",
                       "source_kind='state', loaded_at='updated_at'", STATE),
    "scd2_changelog": ("run", "model.scd2_bench.hist_scd2_changelog", "hist_scd2_changelog",
                       "source_kind='changelog', loaded_at='loaded_at'", LOG),
    "snapshot": ("snapshot", SNAPSHOT, "hist_snapshot", None, None),
}
SCD2_LABELS = ("scd2", "scd2_watermark", "scd2_changelog")
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
        {"name": "bench", "schema": schema, "tables": [{"name": SOURCE}, {"name": EVENTS}]}]}, sort_keys=False))
    for label in SCD2_LABELS:
        _, _, name, config, select = NODES[label]
        (project / "models" / f"{name}.sql").write_text(
            f"{{{{ config(materialized='scd2', unique_key='id', updated_at='updated_at', {config}) }}}}\n{select}\n")
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
        command, unique_id, name, _, _ = NODES[label]
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
        """VACUUM ANALYZE the sources (PostgreSQL) / CHECKPOINT (DuckDB), so each batch starts steady."""
        if self.pg is not None:
            self.execute(f"vacuum analyze {self.schema}.{SOURCE}", f"vacuum analyze {self.schema}.{EVENTS}")
        else:
            self.execute("checkpoint")

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
            f"as updated_at from {series}",
            f"create table {self.schema}.{EVENTS} as select *, timestamp '2024-06-01' as loaded_at "
            f"from {self.schema}.{SOURCE}")
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
            # The change log receives only this batch's events.
            cursor.execute(
                f"insert into {self.schema}.{EVENTS} select id, name, amount, status, updated_at, "
                f"timestamp '2025-06-01' + interval '{batch} day' from {self.schema}.{SOURCE} where {chosen}")
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


@dataclass
class Measured:
    adapter: str
    keys: int
    fraction: float
    labels: list[str]
    initial: dict[str, NodeRun]
    runs: dict[str, list[NodeRun]]
    same: dict[str, list[NodeRun]]
    compared: dict[str, tuple[bool, int, int]]

    def total(self, label: str) -> float:
        return sum(run.seconds for run in self.runs[label])

    def per_batch(self, label: str) -> float:
        return median([run.seconds for run in self.runs[label]])

    def no_change(self, label: str) -> float:
        return median([run.seconds for run in self.same[label]])


def measure(adapter: str, keys: int, batches: int, fraction: float, labels: list[str],
            dump_dir: Path | None, no_change_runs: int = 3) -> Measured:
    """Build each node, run `batches` change batches and `no_change_runs` unchanged runs, compare histories."""
    tag = f"{adapter} {keys:,} keys, {fraction:.0%}"
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
            print(f"[{tag}] sources: {keys:,} keys in {time.perf_counter() - started:.1f} s", flush=True)
            runs: dict[str, list[NodeRun]] = {label: [] for label in labels}
            initial = {label: dbt.run(label) for label in labels}
            print(f"[{tag}] batch 0 (initial build): "
                  + ", ".join(f"{label} {run.seconds:.2f} s" for label, run in initial.items()), flush=True)
            for batch in range(1, batches + 1):
                changed = source.change(batch, fraction)
                order = labels[batch % len(labels):] + labels[:batch % len(labels)]
                for label in order:
                    runs[label].append(dbt.run(label))
                print(f"[{tag}] batch {batch}: {changed:,} keys changed; "
                      + ", ".join(f"{label} {runs[label][-1].seconds:.3f} s ({runs[label][-1].statements} stmts)"
                                  for label in labels) + f"; {order[0]} first; {load()}", flush=True)
            same: dict[str, list[NodeRun]] = {label: [] for label in labels}
            for _ in range(no_change_runs):
                for label in labels:
                    same[label].append(dbt.run(label))
            for label in labels:
                dump(dump_dir, adapter, f"{label}_{keys}_{fraction}_batch{batches}", runs[label][-1])
                dump(dump_dir, adapter, f"{label}_{keys}_{fraction}_nochange", same[label][-1])
            print(f"[{tag}] no-change re-runs (median of {no_change_runs}): "
                  + ", ".join(f"{label} {median([r.seconds for r in same[label]]):.3f} s" for label in labels),
                  flush=True)
            compared = {label: source.compare(NODES[label][2]) for label in labels if label != "snapshot"}
        finally:
            source.close()
    return Measured(adapter, keys, fraction, labels, initial, runs, same, compared)


# -- reporting -------------------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def node_table(r: Measured) -> str:
    rows = []
    for k in r.labels:
        times = [run.seconds for run in r.runs[k]]
        stmts = sorted({run.statements for run in r.runs[k]})
        rows.append([k, r.initial[k].seconds, median(times), f"{min(times):.3f}-{max(times):.3f}", sum(times),
                     median([run.sql_seconds for run in r.runs[k]]), r.no_change(k),
                     "/".join(str(n) for n in stmts), r.same[k][-1].statements])
    return table(["node", "batch 0 s", "median batch s", "min-max", "total s", "median sql s", "no-change s",
                  "stmts/batch", "stmts no-change"], rows)


def statements(r: Measured, k: str) -> str:
    """Each statement of a node's batch runs: median seconds over the batches, text of the last run."""
    lines = [f"{k} batch runs, statement by statement ({r.adapter}, {r.keys:,} keys, {r.fraction:.0%}; "
             "median s over batches):"]
    for i, (_, statement) in enumerate(r.runs[k][-1].timed):
        values = [run.timed[i][0] for run in r.runs[k] if len(run.timed) > i]
        lines.append(f"  {i + 1:2d}. {median(values):8.3f} s  {short(statement)}")
    return "\n".join(lines)


def ratio_target(r: Measured, label: str, limit: float, what: str) -> list[str]:
    ratio = r.total(label) / r.total("snapshot")
    return [f"{r.adapter}: {label}/snapshot total, {what} <= {limit}",
            f"{ratio:.2f}x ({r.total(label):.2f} s vs {r.total('snapshot'):.2f} s)", verdict(ratio <= limit)]


def identical_target(r: Measured, label: str) -> list[str]:
    identical, ours, theirs = r.compared[label]
    return [f"{r.adapter}: {label} history identical to the snapshot's ({r.fraction:.0%} run)",
            f"{'yes' if identical else 'no'} ({ours:,} rows, snapshot {theirs:,})", verdict(identical)]


WATERMARK_LIMIT = {"duckdb": 0.35, "postgres": 0.25}
CHANGELOG_LIMIT = 0.25
FULL_LIMIT = 0.8
NO_CHANGE_LIMIT = 0.15
SCALE_LIMIT = 2.5


def targets(main_runs: list[Measured], full_runs: list[Measured], scale: list[Measured]) -> list[list[str]]:
    rows = []
    for r in main_runs:
        rows.append(ratio_target(r, "scd2_watermark", WATERMARK_LIMIT[r.adapter], f"{r.fraction:.0%} change"))
        rows.append(ratio_target(r, "scd2_changelog", CHANGELOG_LIMIT, f"{r.fraction:.0%} change"))
        if r.adapter == "duckdb":
            seconds = r.no_change("scd2_watermark")
            rows.append(["duckdb: scd2_watermark no-change re-run <= 0.15 s", f"{seconds:.3f} s",
                         verdict(seconds <= NO_CHANGE_LIMIT)])
        rows += [identical_target(r, "scd2_watermark"), identical_target(r, "scd2_changelog")]
    for r in full_runs:
        rows.append(ratio_target(r, "scd2", FULL_LIMIT, f"{r.fraction:.0%} change, compared in full"))
        rows.append(identical_target(r, "scd2"))
    by_keys = {r.keys: r.per_batch("scd2_watermark") for r in scale}
    if 1_000_000 in by_keys and 5_000_000 in by_keys:
        growth = by_keys[5_000_000] / by_keys[1_000_000]
        rows.append(["duckdb: scd2_watermark per batch, 5M keys / 1M keys <= 2.5",
                     f"{growth:.2f}x ({by_keys[5_000_000]:.3f} s vs {by_keys[1_000_000]:.3f} s)",
                     verdict(growth <= SCALE_LIMIT)])
    return rows


def plot(scale: list[Measured], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [r.keys for r in scale]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(keys, [r.per_batch("scd2_watermark") for r in scale], marker="o", label="scd2, loaded_at watermark")
    axis.plot(keys, [r.per_batch("snapshot") for r in scale], marker="s", label="dbt snapshot")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("keys in the source (1 % changed per batch)")
    axis.set_ylabel("median seconds per batch")
    axis.set_title("scd2 on DuckDB: per-batch time by source size")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--keys", type=rows_arg, default=1_000_000, help="source keys")
    p.add_argument("--batches", type=int, default=10, help="change batches after the initial build")
    p.add_argument("--change-fraction", type=float, default=0.01, help="fraction of keys changed per batch (main)")
    p.add_argument("--full-fraction", type=float, default=0.1, help="fraction changed in the full-compare run")
    p.add_argument("--scale-keys", default="100k,1M,5M", help="source sizes of the DuckDB scale curve")
    p.add_argument("--scale-batches", type=int, default=3, help="change batches per size of the scale curve")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: main, full, scale")
    p.add_argument("--plot", type=Path, default=REPO_ROOT / "docs" / "scd2_scale.png", help="scale curve PNG")
    p.add_argument("--dump-sql", type=Path, default=None,
                   help="write the statements of the last batch and no-change runs of each node to this directory")
    args = p.parse_args()
    for fraction in (args.change_fraction, args.full_fraction):
        if not 0 < fraction <= 1:
            p.error("fractions must be in (0, 1]")
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    started = time.perf_counter()
    adapter_list = chosen_adapters(args.adapter)
    header("scd2 materialization vs dbt snapshot (plain timestamp case)", adapter_list,
           f"keys {args.keys:,}, batches {args.batches}, change fraction {args.change_fraction} (full compare: "
           f"{args.full_fraction}); scale curve {args.scale_keys} x {args.scale_batches} batches (DuckDB); time = "
           "node execution_time from run_results; stmts = dbt SQLQuery events with the node's unique_id; sql = sum "
           "of their SQLQueryStatus elapsed")
    main_runs, full_runs, scale = [], [], []
    for adapter in adapter_list:
        if "main" not in skip:
            main_runs.append(measure(adapter, args.keys, args.batches, args.change_fraction,
                                     ["scd2_watermark", "scd2_changelog", "snapshot"], args.dump_sql))
        if "full" not in skip:
            full_runs.append(measure(adapter, args.keys, args.batches, args.full_fraction, ["scd2", "snapshot"],
                                     args.dump_sql, no_change_runs=1))
    if "scale" not in skip and "duckdb" in adapter_list:
        for keys in (rows_arg(size) for size in args.scale_keys.split(",")):
            scale.append(measure("duckdb", keys, args.scale_batches, args.change_fraction,
                                 ["scd2_watermark", "snapshot"], args.dump_sql, no_change_runs=1))
    for r in main_runs + full_runs:
        print(f"\n## {r.adapter}: {r.keys:,} keys, {len(r.runs[r.labels[0]])} batches, {r.fraction:.0%} changed\n")
        print(node_table(r))
        for k in r.labels:
            print()
            print(statements(r, k))
    if scale:
        print(f"\n## scale curve (DuckDB, {args.change_fraction:.0%} changed, {args.scale_batches} batches)\n")
        print(table(["keys", "scd2_watermark median batch s", "snapshot median batch s", "ratio",
                     "scd2_watermark no-change s"],
                    [[f"{r.keys:,}", r.per_batch("scd2_watermark"), r.per_batch("snapshot"),
                      f"{r.per_batch('scd2_watermark') / r.per_batch('snapshot'):.2f}x", r.no_change("scd2_watermark")]
                     for r in scale]))
        plot(scale, args.plot)
        print(f"\nplot: {args.plot}")
    print("\n## verdicts\n")
    print(table(["target", "figure", "verdict"], targets(main_runs, full_runs, scale)))
    print(flush=True)
    footer(started)


if __name__ == "__main__":
    main()

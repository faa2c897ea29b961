"""What steward's run capture (the on-run-end hook steward.record_run) adds to a 1,000-node `dbt build`.

Per adapter, one generated throw-away dbt project (packages.yml `local:` this repository; DuckDB file in a
temp dir, PostgreSQL in a unique `stwbench_<hex>_rec` schema dropped at the end, also on failure) of
--tables table models in three layers (base from range()/generate_series, int with one ref, mart with two
refs), tables/3 views over the marts, and two tests per table: unique and not_null on id, except that one
table in thirty gets steward.primary_key and steward.not_null_proportion instead (steward's own tests, with
a quality dimension). The default 300 tables make 300 + 100 + 600 = 1,000 nodes.

`dbt build` runs in-process (dbtRunner, one invocation at a time) with recording off and on, switched one
of two ways (--switch):
  * `project` (default): two copies of the project, one with `vars: {steward: {record_runs: true}}` in its
    dbt_project.yml (its own DuckDB file or PostgreSQL schema), one without; each keeps its setting, as a
    project that records every run does, so no build re-parses anything. This is what recording costs.
  * `env`: one project, switched between builds by the environment variable STEWARD_RECORD_RUNS as the runner
    sets it; each toggle re-parses the steward model files that read it (partial parse), a cost a project
    that leaves recording on does not pay.
With recording on the package also builds its five observability models (steward_invocations,
steward_node_results, steward_metrics: audit tables, created once; steward_quality_scorecard: view;
steward_lineage: rewritten when the graph changed): they count as part of "on" and are shown apart.
Sequence: one untimed build with recording off (creates the 400 models), the first build with recording on
(creates the audit tables; reported as the first-run cost), then --rounds rounds of off and on, alternating
which goes first. Before every build Python's garbage is collected and, on PostgreSQL, a CHECKPOINT writes dirty
pages out, so neither lands inside one side's timing. The verdict is the median of the paired per-round
differences (on - off within a round), which cancels drift of the machine's speed between rounds.

Figures: `wall` = seconds around the whole dbtRunner invocation (parse, build, hooks); `hook` = execution
time of the on-run-end hook node in run_results; `hook sql` = sum of the SQLQueryStatus elapsed of the
hook's statements (dbtRunner callback), so hook - hook sql is mostly Jinja; `extra models` = summed
execution_time of the five steward models; rows recorded = rows of this invocation in each audit table.

    .venv/bin/python bench/record_run.py [--adapter duckdb|postgres|both] [--tables 300] [--rows 1000]
        [--rounds 3] [--threads 4] [--switch project|env]
"""

from __future__ import annotations

import gc
import os
import re
import threading
import time
from collections import defaultdict
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
    spread,
    table,
    warehouse,
    write_bench_profile,
)
from _common import adapters as chosen_adapters

PROJECT_NAME = "record_bench"
SWITCH = "STEWARD_RECORD_RUNS"
AUDIT_TABLES = ("steward_invocations", "steward_node_results", "steward_metrics")
RECORDING_MODELS = (*AUDIT_TABLES, "steward_quality_scorecard", "steward_lineage")  # built only when on
TARGET_SECONDS = 2.0
STEWARD_TESTS_EVERY = 30  # one table in thirty is tested by steward's tests instead of dbt's


# -- the generated project -----------------------------------------------------------------------------
def write_project(project: Path, adapter: str, schema: str, tables: int, rows: int, threads: int,
                  record_runs: bool | None = None) -> int:
    """Write the project; returns its node count (models + tests, before steward's own models). With
    record_runs True or False, the project sets the record_runs setting in its vars."""
    models = project / "models"
    models.mkdir(parents=True)
    settings: dict[str, Any] = {
        "name": PROJECT_NAME, "version": "1.0.0", "config-version": 2, "profile": PROJECT_NAME,
        "model-paths": ["models"], "target-path": "target",
        "models": {PROJECT_NAME: {"+materialized": "table"}},
    }
    if record_runs is not None:
        settings["vars"] = {"steward": {"record_runs": record_runs}}
    (project / "dbt_project.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    write_bench_profile(project, adapter, schema, PROJECT_NAME)
    profile = yaml.safe_load((project / "profiles.yml").read_text())
    profile[PROJECT_NAME]["outputs"]["bench"]["threads"] = threads
    (project / "profiles.yml").write_text(yaml.safe_dump(profile))

    series = (f"range(1, {rows + 1}) as g(i)" if adapter == "duckdb"
              else f"generate_series(1, {rows}) as g(i)")
    per_layer = tables // 3
    names = {layer: [f"{layer}_{k:03d}" for k in range(per_layer)] for layer in ("base", "int", "mart")}
    sql: dict[str, str] = {}
    for k, name in enumerate(names["base"]):
        sql[name] = (f"select cast(i as bigint) as id, 'item-' || cast(i % {k + 7} as varchar) as label,\n"
                     f"    cast(i * {k + 1} % 1000 as numeric(12, 2)) as amount\nfrom {series}\n")
    for k, name in enumerate(names["int"]):
        sql[name] = (f"select id, label, amount * 2 as amount\nfrom {{{{ ref('{names['base'][k]}') }}}}\n"
                     f"where id % 10 <> {k % 10}\n")
    for k, name in enumerate(names["mart"]):
        other = names["int"][(k + 1) % per_layer]
        sql[name] = (f"select a.id, a.label, a.amount + coalesce(b.amount, 0) as amount\n"
                     f"from {{{{ ref('{names['int'][k]}') }}}} as a\n"
                     f"left join {{{{ ref('{other}') }}}} as b on a.id = b.id\n")
    views = [f"view_{k:03d}" for k in range(tables // 3)]
    for k, name in enumerate(views):
        sql[name] = ("{{ config(materialized='view') }}\n"
                     f"select id, amount from {{{{ ref('{names['mart'][k % per_layer]}') }}}} where amount > 0\n")
    for name, text in sql.items():
        (models / f"{name}.sql").write_text(text)

    described = []
    tests = 0
    for index, name in enumerate(names["base"] + names["int"] + names["mart"]):
        if index % STEWARD_TESTS_EVERY == STEWARD_TESTS_EVERY - 1:
            described.append({"name": name, "data_tests": [
                {"steward.primary_key": {"arguments": {"columns": ["id"]}}}],
                "columns": [{"name": "id", "data_tests": [
                    {"steward.not_null_proportion": {"arguments": {"at_least": 1}}}]}]})
        else:
            described.append({"name": name, "columns": [{"name": "id", "data_tests": ["unique", "not_null"]}]})
        tests += 2
    (models / "schema.yml").write_text(yaml.safe_dump({"version": 2, "models": described}, sort_keys=False))
    return len(sql) + tests


# -- capture ---------------------------------------------------------------------------------------------------
@dataclass
class Capture:
    """A dbtRunner callback: the invocation id, the hook's statements and their elapsed, re-parse events."""

    invocation_id: str = ""
    hook_statements: list[str] = field(default_factory=list)
    hook_sql_seconds: float = 0.0
    hook_cpu_seconds: float = 0.0
    parse_notes: list[str] = field(default_factory=list)
    reparsed: list[str] = field(default_factory=list)
    _hooks_started: float = 0.0

    def reset(self) -> None:
        self.invocation_id, self.hook_statements, self.hook_sql_seconds, self.parse_notes = "", [], 0.0, []
        self.reparsed = []
        self.hook_cpu_seconds = 0.0

    def __call__(self, event: Any) -> None:
        name = event.info.name
        self.invocation_id = self.invocation_id or event.info.invocation_id
        # The on-run-end hook renders (where record_run does its work) and runs in the main thread, right
        # after a blank Formatting event and until its LogHookEndLine: that thread's CPU time in between does
        # not grow with the machine's load as wall time does.
        if threading.current_thread() is threading.main_thread():
            if name == "Formatting":
                self._hooks_started = time.thread_time()
            elif name == "LogHookEndLine" and "on-run-end" in str(event.data.statement):
                self.hook_cpu_seconds += time.thread_time() - self._hooks_started
        if name in ("UnableToPartialParse", "PartialParsingNotEnabled"):
            self.parse_notes.append(f"{name}: {getattr(event.data, 'reason', '')}".strip(": "))
        elif name == "PartialParsingFile":  # a file re-parsed although partial parsing is on
            self.reparsed.append(f"{event.data.operation} {event.data.file_id}")
        if name not in ("SQLQuery", "SQLQueryStatus"):
            return
        node = getattr(getattr(event.data, "node_info", None), "unique_id", "") or ""
        if not node.startswith("operation."):
            return
        if name == "SQLQuery":
            self.hook_statements.append(event.data.sql)
        else:
            self.hook_sql_seconds += float(event.data.elapsed)


@dataclass
class Build:
    mode: str
    wall: float
    cpu: float  # user + sys CPU of this process during the build (dbt, Jinja, DuckDB; not the PostgreSQL server)
    elapsed: float  # dbt's own elapsed_time of the run
    nodes: int
    hook: float
    hook_sql: float
    hook_cpu: float
    statements: list[str]
    extra_models: dict[str, float]
    rows: dict[str, int]
    parse_notes: list[str]
    reparsed: list[str]


class Dbt(BenchDbt):
    """One bench project; `env_switch` sets STEWARD_RECORD_RUNS for each build, else the project's own vars
    decide."""

    def __init__(self, project: Path, schema: str, env_switch: bool) -> None:
        super().__init__(project, Capture())
        self.schema, self.env_switch = schema, env_switch
        self.duckdb_path = project / "bench.duckdb"

    def build(self, recording: bool) -> tuple[float, float, Any]:
        if self.env_switch:
            os.environ[SWITCH] = "true" if recording else "false"
        try:
            start, cpu_start = time.perf_counter(), time.process_time()
            result = self.invoke("build")
            return time.perf_counter() - start, time.process_time() - cpu_start, result
        finally:
            os.environ.pop(SWITCH, None)


# -- reading the audit tables -----------------------------------------------------------------------------------
def recorded_rows(adapter: str, schema: str, duckdb_path: Path, invocation_id: str) -> dict[str, int]:
    queries = [f"select count(*) from {schema}.{name} where invocation_id = '{invocation_id}'"
               for name in AUDIT_TABLES]
    if adapter == "duckdb":
        import duckdb

        con = duckdb.connect(str(duckdb_path))
        try:
            return {name: int(con.execute(q).fetchone()[0]) for name, q in zip(AUDIT_TABLES, queries, strict=True)}
        finally:
            con.close()
    import psycopg2

    s = pg_settings(schema)
    con = psycopg2.connect(host=s["host"], port=s["port"], user=s["user"], password=s["password"] or None,
                           dbname=s["database"])
    try:
        with con.cursor() as cursor:
            counts = {}
            for name, q in zip(AUDIT_TABLES, queries, strict=True):
                cursor.execute(q)
                counts[name] = int(cursor.fetchone()[0])
            return counts
    finally:
        con.close()


# -- the measurement ------------------------------------------------------------------------------------------
def settle(adapter: str) -> None:
    """Start each build from the same state: Python's garbage collected, and on PostgreSQL dirty pages
    written out, so a checkpoint (every build writes ~400 relations) does not land in one build's time."""
    gc.collect()
    if adapter == "postgres":
        with warehouse("postgres") as wh:
            wh.execute("checkpoint")


def one_build(dbt: Dbt, recording: bool, adapter: str) -> Build:
    settle(adapter)
    wall, cpu, result = dbt.build(recording)
    capture: Capture = dbt.capture  # type: ignore[assignment]
    results = result.result.results
    hooks = [r for r in results if r.node.resource_type == "operation"]
    nodes = [r for r in results if r.node.resource_type != "operation"]
    failed = [f"{r.node.name}: {r.status}" for r in nodes if str(r.status) not in ("success", "pass")]
    if failed:
        raise RuntimeError(f"build with recording {'on' if recording else 'off'}: {failed[:5]}")
    extra = {r.node.name: float(r.execution_time) for r in nodes
             if r.node.package_name == "steward" and r.node.name in RECORDING_MODELS}
    rows = recorded_rows(adapter, dbt.schema, dbt.duckdb_path, capture.invocation_id) if recording else {}
    return Build(mode="on" if recording else "off", wall=wall, cpu=cpu, elapsed=float(result.result.elapsed_time),
                 nodes=len(nodes), hook=sum(float(r.execution_time) for r in hooks),
                 hook_sql=capture.hook_sql_seconds, hook_cpu=capture.hook_cpu_seconds,
                 statements=list(capture.hook_statements),
                 extra_models=extra, rows=rows, parse_notes=list(capture.parse_notes),
                 reparsed=list(capture.reparsed))


def measure(adapter: str, tables: int, rows: int, rounds: int, threads: int, switch: str) -> dict[str, Any]:
    with sandbox("rec") as (prefix, directory):
        sides: dict[bool, Dbt] = {}
        for recording in ((False, True) if switch == "project" else (None,)):
            label = {None: "", False: "_off", True: "_on"}[recording]
            schema = "main" if adapter == "duckdb" else f"{prefix}_rec{label}"
            project = directory / f"project{label}"
            nodes = write_project(project, adapter, schema, tables, rows, threads, record_runs=recording)
            dbt = Dbt(project, schema, env_switch=recording is None)
            dbt.invoke("deps")
            if recording is None:
                sides = {False: dbt, True: dbt}
            else:
                sides[recording] = dbt
        warm = one_build(sides[False], False, adapter)
        print(f"[{adapter}] project of {nodes:,} nodes, switch {switch}; untimed first build (recording off): "
              f"{warm.wall:.1f} s, {warm.nodes:,} nodes", flush=True)
        first = one_build(sides[True], True, adapter)
        print(f"[{adapter}] first build with recording on (creates the audit tables): {first.wall:.1f} s, "
              f"hook {first.hook:.2f} s", flush=True)
        builds: dict[str, list[Build]] = defaultdict(list)
        for n in range(rounds):
            order = (False, True) if n % 2 == 0 else (True, False)
            for recording in order:
                b = one_build(sides[recording], recording, adapter)
                builds[b.mode].append(b)
            print(f"[{adapter}] round {n + 1}/{rounds} ({'off' if not order[0] else 'on'} first): "
                  f"off {builds['off'][-1].wall:.1f} s, on {builds['on'][-1].wall:.1f} s "
                  f"(hook {builds['on'][-1].hook:.2f} s); {os.getloadavg()[0]:.1f} load", flush=True)
    return {"adapter": adapter, "nodes": nodes, "rows": rows, "threads": threads, "switch": switch, "first": first,
            "off": builds["off"], "on": builds["on"]}


# -- the report ---------------------------------------------------------------------------------------------------
def short(sql: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"^\s*/\*.*?\*/", "", sql, flags=re.S)).strip()
    text = re.sub(r'"?stwbench_[0-9a-f]+_[a-z0-9_]+"?', "<schema>", text)
    return text[:90] + ("..." if len(text) > 90 else "")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(r: dict[str, Any]) -> None:
    off, on, first = r["off"], r["on"], r["first"]
    print(f"\n## {r['adapter']}: {r['nodes']:,}-node project ({off[0].nodes:,} nodes built with recording off, "
          f"{on[0].nodes:,} on), {r['rows']:,} rows per base table, threads {r['threads']}, "
          f"{len(on)} rounds, switch {r['switch']}\n")
    rows = []
    for label, runs in (("off", off), ("on", on)):
        rows.append([label, median([b.wall for b in runs]), spread([b.wall for b in runs]),
                     median([b.wall - b.elapsed for b in runs]),
                     median([b.cpu for b in runs]), spread([b.cpu for b in runs]), median([b.hook for b in runs]),
                     median([b.hook_cpu for b in runs]), median([b.hook_sql for b in runs]),
                     median([sum(b.extra_models.values()) for b in runs])])
    rows.append(["on, first run", first.wall, "-", first.wall - first.elapsed, first.cpu, "-", first.hook,
                 first.hook_cpu, first.hook_sql,
                 sum(first.extra_models.values())])
    print(table(["recording", "wall s (median)", "min-max", "wall - dbt elapsed s", "cpu s (median)", "min-max",
                 "hook s", "hook cpu s",
                 "hook sql s", "extra models s"], rows))
    difference = median([b.wall for b in on]) - median([b.wall for b in off])
    paired = [b_on.wall - b_off.wall for b_on, b_off in zip(on, off, strict=True)]
    paired_median = median(paired)
    cpu_difference = median([b.cpu for b in on]) - median([b.cpu for b in off])
    hook = median([b.hook for b in on])
    extra = median([sum(b.extra_models.values()) for b in on])
    print()
    print(table(["target", "figure", "verdict"], [
        [f"wall on - off <= {TARGET_SECONDS:.0f} s (median of the paired per-round differences)",
         f"{paired_median:+.2f} s (per round {', '.join(f'{d:+.2f}' for d in paired)})",
         verdict(paired_median <= TARGET_SECONDS)],
        ["wall: median on - median off", f"{difference:+.2f} s", verdict(difference <= TARGET_SECONDS)],
        ["cpu on - off (medians; this process: dbt, Jinja, DuckDB)", f"{cpu_difference:+.2f} s",
         verdict(cpu_difference <= TARGET_SECONDS)],
        ["hook (steady state, median)", f"{hook:.2f} s wall, {median([b.hook_cpu for b in on]):.2f} s cpu, "
         f"{median([b.hook_sql for b in on]):.2f} s SQL",
         verdict(hook <= TARGET_SECONDS)],
        ["extra models, summed execution_time", f"{extra:.2f} s (threads {r['threads']}: they overlap other nodes)",
         "(part of on - off)"],
        ["first run on - median off", f"{first.wall - median([b.wall for b in off]):+.2f} s", "(one-off)"],
    ]))
    last = on[-1]
    print(f"\nhook statements per recorded run: {sorted({len(b.statements) for b in on})} "
          f"(first run {len(first.statements)}); rows recorded per run: "
          + ", ".join(f"{name} {count:,}" for name, count in last.rows.items()))
    for i, statement in enumerate(last.statements, start=1):
        print(f"  {i}. {short(statement)}")
    print("extra models, median execution_time s: " + ", ".join(
        f"{name} {median([b.extra_models.get(name, 0.0) for b in on]):.3f}" for name in sorted(last.extra_models)))
    notes = sorted({note for b in [first, *off, *on] for note in b.parse_notes})
    print(f"full re-parses: {notes if notes else 'none (partial parsing throughout)'}", flush=True)
    for label, runs in (("off", off), ("on", on)):
        files = sorted({f for b in runs for f in b.reparsed})
        print(f"files re-parsed in timed '{label}' builds: {len(files)}{': ' if files else ''}"
              + ", ".join(files[:8]) + (" ..." if len(files) > 8 else ""), flush=True)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--tables", type=int, default=300, help="table models (three layers); views = tables / 3")
    p.add_argument("--rows", type=rows_arg, default=1_000, help="rows per base table")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (each builds off and on once)")
    p.add_argument("--threads", type=int, default=4, help="dbt threads")
    p.add_argument("--switch", choices=("project", "env"), default="project",
                   help="project: two copies, recording fixed in each (no re-parse); env: one project, "
                        f"{SWITCH} toggled between builds")
    args = p.parse_args()
    if args.tables < 3 or args.rounds < 1 or args.threads < 1:
        p.error("--tables needs at least 3, --rounds and --threads at least 1")
    started = time.perf_counter()
    adapter_list = chosen_adapters(args.adapter)
    header("run capture: dbt build with steward.record_run off vs on", adapter_list,
           f"tables {args.tables} + views {args.tables // 3} + tests {args.tables // 3 * 6}, {args.rows:,} rows "
           f"per base table, {args.rounds} rounds, threads {args.threads}; switch: {args.switch}; wall = the "
           f"whole in-process dbt build; hook = on-run-end node execution_time; hook sql = its SQLQueryStatus")
    for adapter in adapter_list:
        report(measure(adapter, args.tables, args.rows, args.rounds, args.threads, args.switch))
    footer(started)


if __name__ == "__main__":
    main()

"""steward.column_profile (many column checks in one scan) against the same checks as separate steward tests.

Per adapter, one temporary dbt project (packages.yml `local:` this repository; DuckDB file in a temp dir,
PostgreSQL in a unique `stwbench_<hex>_profile` schema dropped at the end, also on failure) with a source
table `events` (id bigint, amount numeric(12,2), email text, status text, created_at timestamp) of N rows
made by plain SQL (DuckDB range(), PostgreSQL generate_series), and on it
  * one `steward.column_profile` test (tag stw_profile) holding CHECKS, and
  * the same checks as SEPARATE steward tests (tag stw_separate), one test per check: not_null_proportion,
    accepted_range, matches_pattern, accepted_values_proportion, and
  * a second column_profile test without the matches_pattern check (tag stw_profile_np), compared with the
    separate tests less matches_pattern: the regular expression costs the same on both sides and dominates.
Each round runs `dbt test --select tag:<tag>` for the three tags in-process (dbtRunner, threads 1, so tests
never overlap), alternating the order, after one untimed warm-up round.

Figures: `time` is a test node's execution_time from run_results (compile + its SQL), summed over the
separate tests; `sql` is the sum of the node's SQLQueryStatus elapsed (dbtRunner callback); both are
medians over the rounds. `scans` counts the table scans of `events` in the plan of every test's compiled
SQL (DuckDB EXPLAIN (FORMAT JSON): *SCAN operators whose table is events; PostgreSQL EXPLAIN (FORMAT JSON): scan
nodes whose relation is events) and, as a cross-check, the references to the table in the compiled SQL.

    .venv/bin/python bench/column_profile.py [--adapter duckdb|postgres|both] [--rows 10000000]
        [--postgres-rows N] [--rounds 3]
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from _common import (
    BenchDbt,
    footer,
    header,
    parser,
    pg_settings,
    ratio,
    rows_arg,
    sandbox,
    table,
    write_bench_profile,
)
from _common import adapters as chosen_adapters

PROJECT_NAME = "profile_bench"
SOURCE = "events"
STATUSES = ("active", "paused", "closed", "vip")
# issue #16: the profile's time over the separate tests', per adapter and comparison (None: no target)
TARGETS = {("postgres", "without matches_pattern"): 0.35, ("postgres", "all checks"): 0.6,
           ("duckdb", "without matches_pattern"): 0.6}

# column -> {check: argument}: the profile's checks; SEPARATE below is the same, one test per check.
CHECKS: dict[str, dict[str, Any]] = {
    "id": {"not_null_proportion": 1},
    "amount": {"not_null_proportion": 0.95, "min_value": 0, "max_value": 10000},
    "email": {"not_null_proportion": 0.95, "matches_pattern": {"preset": "email"}},
    "status": {"accepted_values": list(STATUSES)},
    "created_at": {"min_value": "2025-01-01"},
}


def without_pattern() -> dict[str, dict[str, Any]]:
    """CHECKS less matches_pattern: the regular expression dominates both sides, so this shows the rest."""
    return {column: {check: argument for check, argument in checks.items() if check != "matches_pattern"}
            for column, checks in CHECKS.items()}


def separate_tests() -> list[tuple[str, str, dict[str, Any]]]:
    """(column, steward test, arguments): the separate equivalent of every check in CHECKS."""
    tests = []
    for column, checks in CHECKS.items():
        for check, argument in checks.items():
            if check == "not_null_proportion":
                tests.append((column, "not_null_proportion", {"at_least": argument}))
            elif check in ("min_value", "max_value"):
                tests.append((column, "accepted_range", {check: argument}))
            elif check == "matches_pattern":
                tests.append((column, "matches_pattern", dict(argument)))
            elif check == "accepted_values":
                tests.append((column, "accepted_values_proportion", {"values": argument, "at_least": 1}))
            else:
                raise ValueError(f"no separate test for {check}")
    return tests


# -- statement capture ---------------------------------------------------------------------------------
class Capture:
    """A dbtRunner callback: per node unique_id, the SQLQueryStatus elapsed seconds and the SQL sent."""

    def __init__(self) -> None:
        self.sql_seconds: dict[str, float] = defaultdict(float)
        self.statements: dict[str, list[str]] = defaultdict(list)

    def reset(self) -> None:
        self.sql_seconds = defaultdict(float)
        self.statements = defaultdict(list)

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if name not in ("SQLQuery", "SQLQueryStatus"):
            return
        node = getattr(getattr(event.data, "node_info", None), "unique_id", "") or ""
        if not node:
            return
        if name == "SQLQuery":
            self.statements[node].append(event.data.sql)
        else:
            self.sql_seconds[node] += float(event.data.elapsed)


# -- the dbt project -----------------------------------------------------------------------------------
def write_project(project: Path, adapter: str, schema: str) -> None:
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(yaml.safe_dump({
        "name": PROJECT_NAME, "version": "1.0.0", "config-version": 2, "profile": PROJECT_NAME,
        "model-paths": ["models"], "target-path": "target",
    }, sort_keys=False))
    write_bench_profile(project, adapter, schema, PROJECT_NAME)
    profile_test = {"steward.column_profile": {
        "name": "profile_all_checks", "arguments": {"checks": CHECKS}, "config": {"tags": ["stw_profile"]}}}
    profile_no_pattern = {"steward.column_profile": {
        "name": "profile_without_pattern", "arguments": {"checks": without_pattern()},
        "config": {"tags": ["stw_profile_np"]}}}
    columns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index, (column, test, arguments) in enumerate(separate_tests(), start=1):
        columns[column].append({f"steward.{test}": {
            "name": f"separate_{index}_{test}_{column}", "arguments": arguments,
            "config": {"tags": ["stw_separate"]}}})
    (project / "models" / "sources.yml").write_text(yaml.safe_dump({"version": 2, "sources": [{
        "name": "bench", "schema": schema, "tables": [{
            "name": SOURCE, "data_tests": [profile_test, profile_no_pattern],
            "columns": [{"name": column, "data_tests": tests} for column, tests in columns.items()],
        }]}]}, sort_keys=False))


class Dbt(BenchDbt):
    def __init__(self, project: Path) -> None:
        super().__init__(project, Capture())

    def tests(self, tag: str) -> dict[str, dict[str, Any]]:
        """Run the tests with a tag; per test name: execution_time, sql seconds, compiled SQL, status."""
        result = self.invoke("test", "--select", f"tag:{tag}")
        runs = {}
        for r in result.result.results:
            if r.node.resource_type != "test":
                continue  # dbt 1.11 lists the package's on-run-end hook among the results
            if str(r.status) != "pass":
                raise RuntimeError(f"{r.node.name}: {r.status} {r.message}")
            runs[r.node.name] = {"time": float(r.execution_time), "sql": self.capture.sql_seconds[r.node.unique_id],
                                 "compiled": r.node.compiled_code}
        return runs


# -- the table and plans, by plain SQL -----------------------------------------------------------------
class Warehouse:
    def __init__(self, adapter: str, schema: str, duckdb_path: Path) -> None:
        self.adapter, self.schema, self.duckdb_path = adapter, schema, duckdb_path

    def run(self, *statements: str) -> list[list[tuple[Any, ...]]]:
        if self.adapter == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.duckdb_path))
            try:
                return [con.execute(sql).fetchall() for sql in statements]
            finally:
                con.close()
        import psycopg2

        s = pg_settings(self.schema)
        con = psycopg2.connect(host=s["host"], port=s["port"], user=s["user"], password=s["password"] or None,
                               dbname=s["database"])
        con.autocommit = True
        try:
            out = []
            with con.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    out.append(cursor.fetchall() if cursor.description else [])
            return out
        finally:
            con.close()

    def create(self, rows: int) -> None:
        """Clean data, so every check passes and both sides do the same work: email NULL every 50th row,
        amount NULL every 100th; every value in range, every email valid, every status accepted."""
        if self.adapter == "duckdb":
            series = f"range(1, {rows + 1}) as g(i)"
            stamp = "timestamp '2025-01-01' + to_seconds(i * 37 % 31536000)"
        else:
            series = f"generate_series(1, {rows}::bigint) as g(i)"
            stamp = "timestamp '2025-01-01' + make_interval(secs => i * 37 % 31536000)"
        statuses = "array[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
        self.run(
            f"create schema if not exists {self.schema}",
            f"create table {self.schema}.{SOURCE} as select cast(i as bigint) as id, "
            f"case when i % 100 = 0 then null else cast((i * 7919 % 1000000) / 100.0 as numeric(12, 2)) end "
            f"as amount, case when i % 50 = 0 then null else 'user' || cast(i as varchar) || '@example.com' end "
            f"as email, ({statuses})[cast(i % {len(STATUSES)} as integer) + 1] as status, {stamp} as created_at "
            f"from {series}",
            f"vacuum analyze {self.schema}.{SOURCE}" if self.adapter == "postgres" else "checkpoint")

    def size(self) -> str:
        if self.adapter == "postgres":
            [[(size,)]] = self.run(f"select pg_size_pretty(pg_total_relation_size('{self.schema}.{SOURCE}'))")
            return str(size)
        return "-"

    def scans(self, sql: str) -> int:
        """Scan operators on the events table in the plan of a test's compiled SQL."""
        if self.adapter == "duckdb":
            [[(_, plan)]] = self.run(f"explain (format json) {sql}")

            def walk_duckdb(node: dict[str, Any]) -> int:
                table_name = str(node.get("extra_info", {}).get("Table", ""))
                own = 1 if "SCAN" in node.get("name", "") and table_name.split(".")[-1] == SOURCE else 0
                return own + sum(walk_duckdb(child) for child in node.get("children", []))

            return sum(walk_duckdb(node) for node in json.loads(plan))
        [[(plan,)]] = self.run(f"explain (format json) {sql}")
        plan = plan if isinstance(plan, list) else json.loads(plan)

        def walk(node: dict[str, Any]) -> int:
            own = 1 if "Scan" in node.get("Node Type", "") and node.get("Relation Name") == SOURCE else 0
            return own + sum(walk(child) for child in node.get("Plans", []))

        return walk(plan[0]["Plan"])


def references(sql: str) -> int:
    """How many times the compiled SQL names the table (each is a read of it)."""
    return len(re.findall(rf'"?{SOURCE}"?(?![A-Za-z0-9_])', sql.split("\n", 1)[-1])) if sql else 0


# -- the measurement ------------------------------------------------------------------------------------
def measure(adapter: str, rows: int, rounds: int) -> dict[str, Any]:
    with sandbox("profile") as (prefix, directory):
        schema = "main" if adapter == "duckdb" else f"{prefix}_profile"
        project = directory / "project"
        write_project(project, adapter, schema)
        wh = Warehouse(adapter, schema, project / "bench.duckdb")
        started = time.perf_counter()
        wh.create(rows)
        print(f"[{adapter}] {rows:,} rows created in {time.perf_counter() - started:.1f} s "
              f"(size {wh.size()})", flush=True)
        dbt = Dbt(project)
        dbt.invoke("deps")
        tags = ("stw_profile", "stw_separate", "stw_profile_np")
        for tag in tags:  # warm-up: parse, caches
            dbt.tests(tag)
        samples: dict[str, list[dict[str, dict[str, Any]]]] = {tag: [] for tag in tags}
        for n in range(rounds):
            order = tags if n % 2 == 0 else tuple(reversed(tags))
            for tag in order:
                samples[tag].append(dbt.tests(tag))
            print(f"[{adapter}] round {n + 1}/{rounds}: profile "
                  f"{sum(t['time'] for t in samples['stw_profile'][-1].values()):.2f} s, separate "
                  f"{sum(t['time'] for t in samples['stw_separate'][-1].values()):.2f} s", flush=True)
        last = {tag: runs[-1] for tag, runs in samples.items()}
        per_test = {}
        for tag, runs in samples.items():
            for name in runs[0]:
                compiled = last[tag][name]["compiled"]
                per_test[name] = {
                    "tag": tag,
                    "time": statistics.median(r[name]["time"] for r in runs),
                    "sql": statistics.median(r[name]["sql"] for r in runs),
                    "scans": wh.scans(compiled),
                    "references": references(compiled),
                }
        def total(runs: list[dict[str, dict[str, Any]]], keep: Any = lambda name: True) -> dict[str, Any]:
            names = [name for name in runs[0] if keep(name)]
            return {"time": statistics.median(sum(run[name]["time"] for name in names) for run in runs),
                    "sql": statistics.median(sum(run[name]["sql"] for name in names) for run in runs),
                    "tests": len(names), "scans": sum(per_test[name]["scans"] for name in names),
                    "references": sum(per_test[name]["references"] for name in names)}

        totals = {tag: total(runs) for tag, runs in samples.items()}
        totals["stw_separate_np"] = total(samples["stw_separate"], lambda name: "matches_pattern" not in name)
        return {"adapter": adapter, "rows": rows, "rounds": rounds, "per_test": per_test, "totals": totals}


def report(r: dict[str, Any]) -> None:
    checks = sum(len(c) for c in CHECKS.values())
    np_checks = sum(len(c) for c in without_pattern().values())
    print(f"\n## {r['adapter']}: {r['rows']:,} rows, {checks} checks, median of {r['rounds']} rounds\n")
    print(table(["test", "time s", "sql s", "table scans (plan)", "table refs (SQL)"],
                [[name, t["time"], t["sql"], t["scans"], t["references"]] for name, t in r["per_test"].items()]))
    t = r["totals"]
    print()
    rows = []
    for label, tag, n in (("column_profile, all checks", "stw_profile", checks),
                          ("separate tests, all checks", "stw_separate", checks),
                          ("column_profile, without matches_pattern", "stw_profile_np", np_checks),
                          ("separate tests, without matches_pattern", "stw_separate_np", np_checks)):
        rows.append([label, n, t[tag]["tests"], t[tag]["time"], t[tag]["sql"], t[tag]["scans"],
                     f"{t[tag]['scans'] / n:.3f}"])
    print(table(["", "checks", "tests", "time s", "sql s", "table scans", "scans per check"], rows))
    print()
    for label, profile, separate in (("all checks", "stw_profile", "stw_separate"),
                                     ("without matches_pattern", "stw_profile_np", "stw_separate_np")):
        p, s = t[profile], t[separate]
        print(f"ratio profile / separate, {label}: time {ratio(p['time'], s['time'])}, "
              f"sql {ratio(p['sql'], s['sql'])}", flush=True)
        limits = []
        if (r["adapter"], label) in TARGETS:
            limits.append((f"<= {TARGETS[(r['adapter'], label)]}", TARGETS[(r["adapter"], label)]))
        if label == "all checks":  # the profile costs no more than the separate tests less one
            limits.append((f"<= 1 - 1/{s['tests']} = {1 - 1 / s['tests']:.3f}", 1 - 1 / s["tests"]))
        for text, limit in limits:
            figure = p["time"] / s["time"] if s["time"] > 0 else float("inf")
            verdict = "met" if figure <= limit else "NOT met"
            print(f"  target {r['adapter']} {label}: time ratio {text}: {verdict} ({figure:.2f})", flush=True)

def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=rows_arg, default=10_000_000, help="rows of the events table")
    p.add_argument("--postgres-rows", type=rows_arg, default=None, help="rows on PostgreSQL (default: --rows)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (each runs both sides once)")
    args = p.parse_args()
    started = time.perf_counter()
    adapter_list = chosen_adapters(args.adapter)
    pg_rows = args.postgres_rows or args.rows
    checks = sum(len(c) for c in CHECKS.values())
    header("steward.column_profile vs the same checks as separate tests", adapter_list,
           f"rows {args.rows:,} (PostgreSQL: {pg_rows:,}), {checks} checks, {args.rounds} rounds, threads 1; "
           f"time = node execution_time from run_results; sql = sum of the node's SQLQueryStatus elapsed; "
           f"scans = table scans of events in EXPLAIN of the compiled test SQL")
    for adapter in adapter_list:
        report(measure(adapter, pg_rows if adapter == "postgres" else args.rows, args.rounds))
    footer(started)


if __name__ == "__main__":
    main()

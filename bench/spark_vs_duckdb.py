"""The package's quality tests on a 1M-row model: Spark (dbt-spark session mode) against DuckDB, for the record.

Not a target for steward: the same compiled tests run on both engines, so the difference is the cost of the
engine (a JVM, Spark's planning and scheduling per statement) on one machine, not of steward's SQL.

Per adapter, one temporary dbt project (packages.yml `local:` this repository; a DuckDB file, or a Spark
warehouse directory and Derby metastore, in a temp dir removed at the end, also on failure) with one table
model `events` of N rows (id, amount, email, status, created_at) made by the engine's range(), and eight
steward tests on it (not_null_proportion, accepted_range, matches_pattern, accepted_values_proportion,
primary_key, expression_is_true, row_count_between, string_length_between). The model is built once, then
`dbt test` runs ROUNDS times in-process (threads 1); figures are medians: the wall time of the invocation and
the summed execution_time of its tests. Spark's first invocation also starts the JVM: it is the build's.

    .venv/bin/python bench/spark_vs_duckdb.py [--rows 1M] [--rounds 3]     (needs `make test-spark`'s install)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
os.environ["DBT_VERSION_CHECK"] = "False"

MODEL = """{{ config(materialized='table') }}
select
    id,
    cast(id % 1000 as decimal(12, 2)) as amount,
    case when id % 97 = 0 then null else concat('user', cast(id as varchar(20)), '@example.com') end as email,
    case id % 3 when 0 then 'new' when 1 then 'paid' else 'shipped' end as status,
    cast('2024-01-01' as timestamp) as created_at
from {% if target.type == 'spark' -%}
    range({{ var('rows') }})
{%- else -%}
    (select range as id from range({{ var('rows') }}))
{%- endif %}
"""

TESTS = [
    {"steward.not_null_proportion": {"arguments": {"at_least": 0.9}, "column_name": "email"}},
    {"steward.accepted_range": {"arguments": {"min_value": 0, "max_value": 1000}, "column_name": "amount"}},
    {"steward.matches_pattern": {"arguments": {"preset": "email"}, "column_name": "email"}},
    {"steward.accepted_values_proportion": {"arguments": {"values": ["new", "paid", "shipped"], "at_least": 1},
                                            "column_name": "status"}},
    {"steward.string_length_between": {"arguments": {"min_length": 5, "max_length": 40}, "column_name": "email"}},
    {"steward.primary_key": {"arguments": {"columns": ["id"]}}},
    {"steward.expression_is_true": {"arguments": {"expression": "amount >= 0"}}},
    {"steward.row_count_between": {"arguments": {"min_value": 1}}},
]


def profile(adapter: str, root: Path) -> dict[str, Any]:
    if adapter == "duckdb":
        return {"type": "duckdb", "path": str(root / "bench.duckdb"), "schema": "bench", "threads": 1}
    return {"type": "spark", "method": "session", "host": "localhost", "schema": "bench", "threads": 1,
            "server_side_parameters": {
                "spark.sql.warehouse.dir": str(root / "warehouse"),
                "spark.hadoop.javax.jdo.option.ConnectionURL":
                    f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
                "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
                "spark.driver.memory": "4g", "spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false", "spark.log.level": "ERROR"}}


def make_project(adapter: str, root: Path) -> Path:
    project = root / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(yaml.safe_dump({
        "name": "spark_bench", "version": "1.0", "config-version": 2, "profile": "spark_bench"}))
    (project / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    (project / "profiles.yml").write_text(yaml.safe_dump(
        {"spark_bench": {"target": "bench", "outputs": {"bench": profile(adapter, root)}}}))
    (project / "models" / "events.sql").write_text(MODEL)
    (project / "models" / "events.yml").write_text(yaml.safe_dump(
        {"version": 2, "models": [{"name": "events", "data_tests": [
            {name: {"arguments": spec["arguments"]}} for test in TESTS for name, spec in test.items()
            if "column_name" not in spec],
            "columns": [{"name": spec["column_name"], "data_tests": [{name: {"arguments": spec["arguments"]}}]}
                        for test in TESTS for name, spec in test.items() if "column_name" in spec]}]}))
    return project


def invoke(project: Path, rows: int, *command: str) -> tuple[float, float, int]:
    """Wall seconds, summed node execution_time and node count of one in-process dbt invocation."""
    from dbt.cli.main import dbtRunner

    started = time.perf_counter()
    result = dbtRunner().invoke([*command, "--project-dir", str(project), "--profiles-dir", str(project),
                                 "--vars", f"{{rows: {rows}}}", "--quiet"])
    wall = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"dbt {' '.join(command)} failed: {result.exception}")
    nodes = list(getattr(result.result, "results", None) or [])
    return wall, sum(float(node.execution_time or 0) for node in nodes), len(nodes)


def measure(adapter: str, rows: int, rounds: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"stwbench-{adapter}-"))
    try:
        project = make_project(adapter, root)
        invoke(project, rows, "deps")
        build_wall, _, _ = invoke(project, rows, "run", "--select", "events")
        runs = [invoke(project, rows, "test", "--select", "events") for _ in range(rounds)]
        return {"adapter": adapter, "build": build_wall, "tests": runs[0][2],
                "test_wall": statistics.median(r[0] for r in runs),
                "test_sql": statistics.median(r[1] for r in runs)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1M", help="rows of the model (1M, 100k, 1000000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    text = args.rows.lower().replace("_", "")
    rows = int(float(text[:-1]) * {"k": 1_000, "m": 1_000_000}[text[-1]]) if text[-1] in "km" else int(text)
    print(f"steward quality tests on a {rows:,}-row model, {args.rounds} rounds, load {os.getloadavg()[0]:.2f}")
    results = [measure(adapter, rows, args.rounds) for adapter in ("duckdb", "spark")]
    print(f"{'adapter':8} {'build s':>9} {'tests':>6} {'dbt test s':>11} {'tests sum s':>12}")
    for r in results:
        print(f"{r['adapter']:8} {r['build']:9.1f} {r['tests']:6d} {r['test_wall']:11.1f} {r['test_sql']:12.1f}")
    duck, spark = results
    print(f"spark/duckdb: dbt test {spark['test_wall'] / duck['test_wall']:.1f}x, "
          f"tests' own time {spark['test_sql'] / duck['test_sql']:.1f}x")


if __name__ == "__main__":
    main()

"""What a guarded deploy costs over a plain build: `steward deploy` vs `dbt build` on examples/shop.

Per adapter: copy examples/shop to a temp dir with its own profile (DuckDB file in the copy, or a
unique PostgreSQL schema), `dbt deps`, one warm-up `dbt build`, then N rounds of `dbt build` followed
by `steward deploy` on the same selection (the whole project), each a subprocess timed by wall clock
(and by its CPU time, a check that holds up better when other work shares the machine).

The rollback point is measured twice: from each deploy's journal (the locked -> snapshotted interval,
whole seconds only), and precisely by timing RollbackStore.create through the Python API on the same
relations, in the same rollback schema, after the rounds.

    .venv/bin/python bench/runner_overhead.py [--adapter duckdb|postgres|both] [--rounds 3] [--recorded-baseline]

A deploy switches the package's run recording on (audit tables, their hook); a plain `dbt build` does
not. --recorded-baseline runs the `dbt build` with recording on too (STEWARD_RECORD_RUNS=true), so
both do the same warehouse work and the ratio is the runner's own overhead; the recording's cost
has its own benchmark (bench/record_run.py).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import (
    BIN,
    Relation,
    RollbackStore,
    deploy_id,
    footer,
    header,
    median,
    parser,
    project_args,
    ratio,
    run,
    run_measured,
    sandbox,
    shop_project,
    spread,
    table,
    timed,
    warehouse,
)
from _common import adapters as chosen_adapters

TARGET_RATIO = 1.10


def journal_record(journal: Path, known: set[Path]) -> dict[str, Any]:
    """The final record of the one deploy whose journal file appeared since `known` was listed."""
    new = sorted(set(journal.glob("*.jsonl")) - known)
    if len(new) != 1:
        raise RuntimeError(f"expected one new journal file in {journal}, found {len(new)}")
    lines = [line for line in new[0].read_text().splitlines() if line.strip()]
    return json.loads(lines[-1])


def phase_seconds(record: dict[str, Any], start: str, end: str) -> float:
    stamps = {state: datetime.fromisoformat(at) for state, at in record["history"]}
    return (stamps[end] - stamps[start]).total_seconds()


def measure(adapter: str, rounds: int, threads: int, recorded_baseline: bool) -> dict[str, Any]:
    with sandbox(f"overhead_{adapter}") as (prefix, directory):
        project = shop_project(directory, adapter, prefix, threads)
        args = project_args(project)
        dbt, steward = str(BIN / "dbt"), str(BIN / "steward")
        baseline_env = {"STEWARD_RECORD_RUNS": "true"} if recorded_baseline else {}
        run([dbt, "deps", *args], project)
        warmup = run([dbt, "build", *args], project, baseline_env)
        print(f"[{adapter}] warm-up dbt build: {warmup:.2f} s", flush=True)

        journal = project / "target" / "steward" / "journal"
        wall: dict[str, list[float]] = {"dbt": [], "steward": []}
        cpu: dict[str, list[float]] = {"dbt": [], "steward": []}
        journal_snapshots: list[float] = []
        record: dict[str, Any] = {}
        for n in range(1, rounds + 1):
            for name, command in (("dbt", [dbt, "build", *args]), ("steward", [steward, "deploy", *args])):
                known = set(journal.glob("*.jsonl"))  # after the loop: the journal files before the deploy
                seconds, cpu_seconds = run_measured(command, project, baseline_env if name == "dbt" else None)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
            record = journal_record(journal, known)
            if record["state"] != "succeeded":
                raise RuntimeError(f"steward deploy ended in state {record['state']}: {record.get('detail')}")
            journal_snapshots.append(phase_seconds(record, "locked", "snapshotted"))
            print(f"[{adapter}] round {n}: dbt build {wall['dbt'][-1]:.2f} s (cpu {cpu['dbt'][-1]:.2f} s), "
                  f"steward deploy {wall['steward'][-1]:.2f} s (cpu {cpu['steward'][-1]:.2f} s; "
                  f"journal: snapshot {journal_snapshots[-1]:.0f} s)", flush=True)

        # The precise measurement: RollbackStore.create on the relations the last deploy snapshotted.
        relations = [Relation(*name.split(".", 1)) for name in record["relations"]]
        schema = f"{prefix}_rollback"
        api_snapshots: list[float] = []
        with warehouse(adapter, duckdb_path=project / "shop.duckdb", schema=schema) as wh:
            store = RollbackStore(wh, schema)
            store.ensure()
            for _ in range(rounds):
                point = deploy_id()
                seconds, entries = timed(lambda point=point: store.create(point, relations))
                api_snapshots.append(seconds)
                store.drop(point)
            tables = sum(1 for entry in entries if entry.kind == "table")
            views = sum(1 for entry in entries if entry.kind == "view")
            rows = sum(entry.row_count or 0 for entry in entries if entry.kind == "table")
        return {"adapter": adapter, "dbt": wall["dbt"], "steward": wall["steward"], "dbt_cpu": cpu["dbt"],
                "steward_cpu": cpu["steward"], "journal": journal_snapshots,
                "api": api_snapshots, "relations": len(relations), "tables": tables, "views": views, "rows": rows}


def main() -> None:
    started = time.perf_counter()
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--rounds", type=int, default=3, help="dbt build / steward deploy pairs per adapter")
    cli.add_argument("--threads", type=int, default=1, help="dbt threads in the generated profile (shop uses 1)")
    cli.add_argument("--recorded-baseline", action="store_true",
                     help="run the dbt build with the package's run recording on, as the deploy's build is")
    options = cli.parse_args()
    adapter_list = chosen_adapters(options.adapter)
    header("runner overhead: steward deploy vs dbt build, examples/shop, whole project", adapter_list,
           f"rounds={options.rounds} threads={options.threads} recorded_baseline={options.recorded_baseline}; "
           "wall clock of each subprocess; "
           f"target: steward/dbt <= {TARGET_RATIO:.2f}x")
    results = [measure(adapter, options.rounds, options.threads, options.recorded_baseline)
               for adapter in adapter_list]

    print()
    print("Wall clock (the target is on the medians):")
    print(table(
        ["adapter", "dbt build median s", "steward deploy median s", "steward/dbt", "overhead s",
         f"target <= {TARGET_RATIO:.2f}x", "dbt min-max s", "steward min-max s", "steward/dbt of minima"],
        [[r["adapter"], median(r["dbt"]), median(r["steward"]), ratio(median(r["steward"]), median(r["dbt"]), 3),
          median(r["steward"]) - median(r["dbt"]),
          "met" if median(r["steward"]) <= TARGET_RATIO * median(r["dbt"]) else "NOT met",
          spread(r["dbt"]), spread(r["steward"]), ratio(min(r["steward"]), min(r["dbt"]), 3)] for r in results],
    ))
    print()
    print("CPU time of each subprocess (user + sys; steadier than wall clock on a busy machine, "
          "but it leaves out the PostgreSQL server's work):")
    print(table(
        ["adapter", "dbt build cpu median s", "steward deploy cpu median s", "steward/dbt cpu", "overhead cpu s"],
        [[r["adapter"], median(r["dbt_cpu"]), median(r["steward_cpu"]),
          ratio(median(r["steward_cpu"]), median(r["dbt_cpu"]), 3), median(r["steward_cpu"]) - median(r["dbt_cpu"])]
         for r in results],
    ))
    print()
    print("Rollback point (what RollbackStore.create costs inside each deploy):")
    print(table(
        ["adapter", "relations", "tables copied", "views kept", "rows copied", "API create median s",
         "API min-max s", "journal locked->snapshotted s", "share of steward deploy"],
        [[r["adapter"], r["relations"], r["tables"], r["views"], r["rows"], median(r["api"]), spread(r["api"]),
          " / ".join(f"{s:.0f}" for s in r["journal"]), f"{100 * median(r['api']) / median(r['steward']):.1f}%"]
         for r in results],
    ))
    print("API create = RollbackStore.create timed with perf_counter on the same relations, in the same rollback "
          "schema, on a fresh connection (the precise figure; copies + count/checksum, one transaction). "
          "The journal interval has whole-second resolution, so it only bounds the cost.")

    footer(started)


if __name__ == "__main__":
    main()

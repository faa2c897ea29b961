"""Blue-green publish and rollback time: K staged tables of SMALL rows vs K of LARGE rows, next to in-place.

Per adapter and size: build K prod tables and K stage tables (other values) where a deploy stages them
(PostgreSQL: `<schema>__steward_stage.<name>`; DuckDB: `<schema>.<name>__steward_stage`, beside prod) with SQL,
one view outside the deploy on the first prod table, then time what a blue-green deploy does after its build:

- measure prod: the count + checksum of every prod relation a publish records as its rollback point (a scan,
  taken before the publish, outside its transaction), once per size;
- publish: `bluegreen.publish`, one transaction: every prod table moved into its rollback slot, every stage
  table into prod (PostgreSQL: ALTER TABLE ... SET SCHEMA; DuckDB: a rename within the schema), the dependent
  view recreated;
- rollback: `RollbackStore.put_back`, restore's transaction, the reverse swap (renames; restore first checks the
  copies with a scan, like measure prod), and `RollbackStore.verify` once per size;

and, for the in-place deploy's cost of the same K tables, `RollbackStore.create` (copy + checksum of every table,
taken before an in-place build). After each rollback the published tables are moved back to the stage, so each
sample publishes the same data without a rebuild. Both sizes are
built first and their cycles interleaved, alternating which goes first, so both see the same load and caches.

    .venv/bin/python bench/blue_green.py [--adapter duckdb|postgres|both] [--tables 10]
        [--small-rows 10_000] [--large-rows 10_000_000] [--repeats 9] [--no-in-place]
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from _common import (
    Relation,
    RollbackStore,
    Warehouse,
    create_table,
    deploy_id,
    footer,
    header,
    median,
    parser,
    ratio,
    relation_size,
    rows_arg,
    sandbox,
    spread,
    table,
    timed,
    warehouse,
)
from _common import adapters as chosen_adapters

from steward.deploy.blue_green import Before, Stage, Staged, measure_prod, publish

TARGET_RATIO = 1.5
TARGET_SECONDS = 5.0


def reset(wh: Warehouse, store: RollbackStore, point: str, staged: list[Staged]) -> None:
    """Undo a published-then-rolled-back point: the published tables back to stage, the point's rows gone."""
    with wh.transaction():
        for seq, item in enumerate(staged):
            wh.move_table(store.slot(point, seq, item.prod, "a"), item.stage)
        wh.execute(f"delete from {store.table} where deploy_id = {wh.param}", (point,))


def cycle(wh: Warehouse, store: RollbackStore, staged: list[Staged], before: dict[Relation, Before],
          verify: bool) -> tuple[float, float, float | None]:
    """One publish and its rollback (and, once per size, the rollback's verification); then reset."""
    point = deploy_id()
    published, entries = timed(partial(publish, wh, store, point, staged, before))
    if wh.scalar(f"select label from {wh.qualified(staged[-1].prod)} where id = 1") != "item-2":
        raise RuntimeError(f"publish {point} did not put the stage in prod")
    rolled_back, restored = timed(partial(store.put_back, point))
    if len(restored) != len(entries):
        raise RuntimeError(f"rollback of {point} restored {len(restored)} of {len(entries)}")
    verified = None
    if verify:
        verified, mismatches = timed(partial(store.verify, store.entries(point)))
        if mismatches:
            raise RuntimeError(f"rollback of {point} does not verify: {[m.describe() for m in mismatches]}")
    reset(wh, store, point, staged)
    return published, rolled_back, verified


def measure(adapter: str, tables: int, sizes: list[tuple[str, int]], repeats: int,
            in_place: bool) -> list[dict[str, Any]]:
    """Both sizes are built first; their publish/rollback cycles are then interleaved (alternating which size
    goes first), so both see the same load and caches."""
    with sandbox(f"bluegreen_{adapter}") as (prefix, directory):
        schema, rollback_schema = f"{prefix}_data", f"{prefix}_rollback"
        consumers = f"{prefix}_consumers"
        stage = Stage.for_adapter(adapter, [Relation(schema, "any")])
        with warehouse(adapter, duckdb_path=Path(directory) / "bluegreen.duckdb", schema=schema) as wh:
            for name in (schema, *stage.schemas, consumers):
                wh.ensure_schema(name)
            store = RollbackStore(wh, rollback_schema)
            store.ensure()
            runs: dict[str, dict[str, Any]] = {}
            for label, rows in sizes:
                prods = [Relation(schema, f"{label}_{k}") for k in range(1, tables + 1)]
                staged = [Staged(f"model.bench.{prod.name}", prod, stage.relation(prod), "table") for prod in prods]
                built = 0.0
                for item in staged:
                    seconds, _ = timed(partial(create_table, wh, item.prod, rows))
                    more, _ = timed(partial(create_table, wh, item.stage, rows, variant=1))
                    built += seconds + more
                wh.create_view(Relation(consumers, f"{label}_view"),
                               f"select id, amount from {wh.qualified(staged[0].prod)} where id % 10 = 0")
                size = relation_size(wh, staged[0].prod)
                measured, before = timed(partial(measure_prod, wh, [item.prod for item in staged]))
                print(f"[{adapter}] {label}: built {tables} prod + {tables} stage tables x {rows:,} rows in "
                      f"{built:.2f} s (each table {size}); measured prod in {measured:.2f} s", flush=True)
                runs[label] = {"adapter": adapter, "size": label, "rows": rows, "tables": tables, "built": built,
                               "table_size": size, "measure": measured, "publish": [], "rollback": [],
                               "verify": None, "in_place": None, "staged": staged, "before": before}
            for n in range(repeats):
                order = list(runs) if n % 2 == 0 else list(reversed(runs))
                for label in order:
                    run = runs[label]
                    published, rolled_back, verified = cycle(wh, store, run["staged"], run["before"], verify=n == 0)
                    run["publish"].append(published)
                    run["rollback"].append(rolled_back)
                    if verified is not None:
                        run["verify"] = verified
                    print(f"[{adapter}] {label} #{n + 1}: publish {published:.3f} s, rollback {rolled_back:.3f} s",
                          flush=True)
            for run in runs.values():
                if in_place:
                    point = deploy_id()
                    run["in_place"], _ = timed(partial(store.create, point, [item.prod for item in run["staged"]]))
                    store.drop(point)
                    print(f"[{adapter}] {run['size']}: in-place rollback point {run['in_place']:.3f} s", flush=True)
                wh.drop(Relation(consumers, f"{run['size']}_view"), "view")
                for item in run.pop("staged"):
                    wh.drop(item.prod, "table")
                    wh.drop(item.stage, "table")
                run.pop("before")
            return list(runs.values())


def main() -> None:
    started = time.perf_counter()
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--tables", type=int, default=10, help="relations published (K)")
    cli.add_argument("--small-rows", type=rows_arg, default=10_000, help="rows per table, SMALL")
    cli.add_argument("--large-rows", type=rows_arg, default=10_000_000, help="rows per table, LARGE")
    cli.add_argument("--repeats", type=int, default=9, help="publish + rollback cycles timed per size")
    cli.add_argument("--no-in-place", dest="in_place", action="store_false",
                     help="skip timing the in-place rollback point (a copy of every table)")
    options = cli.parse_args()
    adapter_list = chosen_adapters(options.adapter)
    header("blue-green: publish and rollback time, small vs large tables, next to in-place", adapter_list,
           f"K={options.tables} tables + 1 dependent view; SMALL={options.small_rows:,} rows, "
           f"LARGE={options.large_rows:,} rows; {options.repeats} publish/rollback cycles per size; "
           f"target: large/small <= {TARGET_RATIO}x and < {TARGET_SECONDS:.0f} s")
    sizes = [("small", options.small_rows), ("large", options.large_rows)]
    results = [row for adapter in adapter_list
               for row in measure(adapter, options.tables, sizes, options.repeats, options.in_place)]

    print()
    print("Every step (seconds; publish and rollback: medians of the cycles):")
    print(table(
        ["adapter", "size", "rows/table", "tables", "table size", "build prod + stage", "measure prod (once)",
         "publish", "publish min-max", "rollback", "rollback min-max", "verify (once)", "in-place rollback point"],
        [[r["adapter"], r["size"], r["rows"], r["tables"], r["table_size"], r["built"], r["measure"],
          median(r["publish"]), spread(r["publish"]), median(r["rollback"]), spread(r["rollback"]), r["verify"],
          "-" if r["in_place"] is None else r["in_place"]] for r in results],
    ))
    print()
    print("Publish and rollback, small vs large, side by side:")
    rows = []
    for adapter in adapter_list:
        by_size = {r["size"]: r for r in results if r["adapter"] == adapter}
        small, large = by_size["small"], by_size["large"]
        line: list[Any] = [adapter]
        for step in ("publish", "rollback"):
            low, high = median(small[step]), median(large[step])
            met = high / low <= TARGET_RATIO and max(large[step]) < TARGET_SECONDS
            line += [low, high, ratio(high, low), max(large[step]), "met" if met else "NOT met"]
        line += ["-" if large["in_place"] is None else large["in_place"]]
        rows.append(line)
    print(table(
        ["adapter", "publish small s", "publish large s", "publish large/small", "slowest large publish s",
         f"publish <= {TARGET_RATIO}x, < {TARGET_SECONDS:.0f} s", "rollback small s", "rollback large s",
         "rollback large/small", "slowest large rollback s", f"rollback <= {TARGET_RATIO}x, < {TARGET_SECONDS:.0f} s",
         "in-place rollback point, large s"],
        rows,
    ))
    print(f"small = {options.small_rows:,} rows/table, large = {options.large_rows:,} rows/table, "
          f"{options.tables} tables each. Measuring prod and verifying scan every row, by design.")
    footer(started)


if __name__ == "__main__":
    main()

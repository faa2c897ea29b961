"""Restore and verification time of a rollback point: K tables of SMALL rows vs K tables of LARGE rows.

Per adapter and size: build K tables with SQL (id bigint, label text, amount numeric, created_at
timestamp), make a rollback point of them with RollbackStore.create, replace every table with new
data as a rebuild would (drop, create again), then time RollbackStore.restore (one transaction of
renames; PostgreSQL moves the copies back from the rollback schema, DuckDB renames the copies that sit
beside their tables) and RollbackStore.verify (recount and re-checksum every restored table).

Restore should not grow with table size; verification scans every row, so it is expected to. Each cycle
times the restore several times (--restores): after the first, the restore is undone by renames (the deployed
tables put back, the point marked pending) and run again, so the large tables need not be copied per sample.
The first restore is verified with RollbackStore.verify; after the last, a spot check that the original data is back.

    .venv/bin/python bench/restore_time.py [--adapter duckdb|postgres|both] [--tables 3]
        [--small-rows 10_000] [--large-rows 10_000_000] [--small-repeats 3] [--large-repeats 1] [--restores 10]
"""

from __future__ import annotations

import time
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

from steward.warehouse.rollback import RollbackEntry

TARGET_RATIO = 1.5
TARGET_SECONDS = 5.0


def cycle(wh: Warehouse, store: RollbackStore, relations: list[Relation], rows: int, variant: int,
          restores: int) -> dict[str, Any]:
    """One simulated deploy: rollback point, rebuild, restore, verify; the deploy's copies dropped after.

    The restore is then timed `restores - 1` more times on the same state: `unrestore` swaps the deployed
    tables back and marks the point pending again, which is only renames, so the large tables are not
    copied again for each sample."""
    point = deploy_id()
    snapshot, entries = timed(lambda: store.create(point, relations))
    if any(entry.row_count != rows for entry in entries):
        raise RuntimeError(f"rollback point {point} recorded unexpected row counts")

    def rebuild() -> None:
        for relation in relations:
            wh.drop(relation, "table")
            create_table(wh, relation, rows, variant=variant, steady=False)

    rebuilt, _ = timed(rebuild)
    restore_times = []
    for n in range(restores):
        if n:
            unrestore(wh, store, point, entries)
        seconds, restored = timed(lambda: store.restore(point))
        restore_times.append(seconds)
        if len(restored) != len(relations):
            raise RuntimeError(f"restore of {point} restored {len(restored)} of {len(relations)} tables")
        if n == 0:
            verify, mismatches = timed(lambda: store.verify(store.entries(point)))
            if mismatches:
                raise RuntimeError(f"restore of {point} does not verify: {[m.describe() for m in mismatches]}")
    if restores > 1:
        check_original(wh, relations)
    store.drop(point)  # the deployed ('after') versions moved aside by the restore
    return {"snapshot": snapshot, "rebuild": rebuilt, "restore": restore_times, "verify": verify}


def unrestore(wh: Warehouse, store: RollbackStore, point: str, entries: list[RollbackEntry]) -> None:
    """Undo a restore by renames: the state just before it (deployed tables in place, copies in their slots)."""
    with wh.transaction():
        for entry in entries:
            if entry.kind == "table" and entry.copy is not None:
                wh.move_table(entry.relation, entry.copy)
                wh.move_table(store.slot(point, entry.seq, entry.relation, "a"), entry.relation)
        wh.execute(f"update {store.table} set restored_at = null where deploy_id = {wh.param}", (point,))


def check_original(wh: Warehouse, relations: list[Relation]) -> None:
    """After a repeated restore every table holds its original data again (variant 0: id 1 is labelled item-1)."""
    for relation in relations:
        label = wh.scalar(f"select label from {wh.qualified(relation)} where id = 1")
        if label != "item-1":
            raise RuntimeError(f"{relation} was not restored: id 1 is labelled {label!r}")


def measure(adapter: str, tables: int, sizes: list[tuple[str, int, int]], restores: int) -> list[dict[str, Any]]:
    results = []
    with sandbox(f"restore_{adapter}") as (prefix, directory):
        schema, rollback_schema = f"{prefix}_data", f"{prefix}_rollback"
        with warehouse(adapter, duckdb_path=Path(directory) / "restore.duckdb", schema=schema) as wh:
            wh.ensure_schema(schema)
            store = RollbackStore(wh, rollback_schema)
            store.ensure()
            for label, rows, repeats in sizes:
                relations = [Relation(schema, f"{label}_{k}") for k in range(1, tables + 1)]

                def build(relations: list[Relation] = relations, rows: int = rows) -> None:
                    for relation in relations:
                        create_table(wh, relation, rows)

                built, _ = timed(build)
                size = relation_size(wh, relations[0])
                print(f"[{adapter}] {label}: built {tables} x {rows:,} rows in {built:.2f} s "
                      f"(each table {size})", flush=True)
                cycles = []
                for n in range(1, repeats + 1):
                    cycles.append(cycle(wh, store, relations, rows, variant=n, restores=restores))
                    step = cycles[-1]
                    print(f"[{adapter}] {label} #{n}: rollback point {step['snapshot']:.3f} s, rebuild "
                          f"{step['rebuild']:.3f} s, restore {' / '.join(f'{t:.3f}' for t in step['restore'])} s, "
                          f"verify {step['verify']:.3f} s", flush=True)
                for relation in relations:
                    wh.drop(relation, "table")
                steps = {key: [c[key] for c in cycles] for key in ("snapshot", "rebuild", "verify")}
                steps["restore"] = [seconds for c in cycles for seconds in c["restore"]]
                steps["first_restore"] = [c["restore"][0] for c in cycles]
                results.append({"adapter": adapter, "size": label, "rows": rows, "tables": tables, "built": built,
                                "table_size": size, **steps})
    return results


def main() -> None:
    started = time.perf_counter()
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--tables", type=int, default=3, help="tables in the rollback point (K)")
    cli.add_argument("--small-rows", type=rows_arg, default=10_000, help="rows per table, SMALL")
    cli.add_argument("--large-rows", type=rows_arg, default=10_000_000, help="rows per table, LARGE")
    cli.add_argument("--small-repeats", type=int, default=3, help="deploy/restore cycles on the SMALL tables")
    cli.add_argument("--large-repeats", type=int, default=1,
                     help="deploy/restore cycles on the LARGE tables (each copies and rebuilds every table)")
    cli.add_argument("--restores", type=int, default=10,
                     help="restores timed per cycle (after the first, the restore is undone by renames and redone)")
    options = cli.parse_args()
    adapter_list = chosen_adapters(options.adapter)
    header("restore time: RollbackStore.restore and .verify, small vs large tables", adapter_list,
           f"K={options.tables} tables; SMALL={options.small_rows:,} rows x{options.small_repeats}, "
           f"LARGE={options.large_rows:,} rows x{options.large_repeats}; {options.restores} restores per cycle; "
           f"target: restore large/small <= {TARGET_RATIO}x and < {TARGET_SECONDS:.0f} s")
    sizes = [("small", options.small_rows, options.small_repeats), ("large", options.large_rows, options.large_repeats)]
    results = [row for adapter in adapter_list for row in measure(adapter, options.tables, sizes, options.restores)]

    print()
    print("Every step, medians (seconds); restore over every timed restore, the rest over the cycles:")
    print(table(
        ["adapter", "size", "rows/table", "tables", "table size", "build tables", "rollback point (create)",
         "rebuild", "restores timed", "restore", "restore min-max", "first restore after rebuild", "verify",
         "verify min-max"],
        [[r["adapter"], r["size"], r["rows"], r["tables"], r["table_size"], r["built"], median(r["snapshot"]),
          median(r["rebuild"]), len(r["restore"]), median(r["restore"]), spread(r["restore"]),
          median(r["first_restore"]), median(r["verify"]), spread(r["verify"])] for r in results],
    ))
    print()
    print("Restore (renames, one transaction) and verification (count + checksum scan), side by side:")
    rows = []
    for adapter in adapter_list:
        by_size = {r["size"]: r for r in results if r["adapter"] == adapter}
        small, large = by_size["small"], by_size["large"]
        restore_small, restore_large = median(small["restore"]), median(large["restore"])
        slowest = max(large["restore"])
        met = restore_large / restore_small <= TARGET_RATIO and slowest < TARGET_SECONDS
        rows.append([adapter, restore_small, restore_large, ratio(restore_large, restore_small), slowest,
                     "met" if met else "NOT met", median(small["verify"]), median(large["verify"]),
                     ratio(median(large["verify"]), median(small["verify"]))])
    print(table(
        ["adapter", "restore small s", "restore large s", "restore large/small", "slowest large restore s",
         f"target <= {TARGET_RATIO}x, slowest < {TARGET_SECONDS:.0f} s", "verify small s", "verify large s",
         "verify large/small"],
        rows,
    ))
    print(f"small = {options.small_rows:,} rows/table, large = {options.large_rows:,} rows/table, "
          f"{options.tables} tables each. Verification scans every row, so it grows with size by design.")

    footer(started)


if __name__ == "__main__":
    main()

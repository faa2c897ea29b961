"""Restore and verification time of a rollback point: K tables at each of several sizes (10k, 1M, 10M rows).

Per adapter and size: build K tables with SQL (id bigint, label text, amount numeric, created_at
timestamp), make a rollback point of them with RollbackStore.create, replace every table with new
data as a rebuild would (drop, create again), then time the two phases of RollbackStore.restore:
check_copies (recount and re-checksum the copies the restore will move into place; no lock on prod) and
put_back (one transaction of renames, with the catalog verified inside it: the only phase that locks prod;
PostgreSQL moves the copies back from the rollback schema, DuckDB renames the copies beside their tables),
then RollbackStore.verify (recount and re-checksum every restored table, as `steward rollback` reports it).

put_back should not grow with table size; check_copies and verify scan every row, so they do by design. Every
size is prepared first; then put_back is timed in rounds (--restores), one per size per round in a rotating order,
so the machine's load falls on every size alike: after the first round (whose restores are verified), each
restore is undone by renames (the deployed tables put back, the point marked pending) and run again, so the large
tables need not be copied per sample. At the end, a spot check that the original data is back.

    .venv/bin/python bench/restore_time.py [--adapter duckdb|postgres|both] [--tables 3]
        [--sizes 10k 1m 10m] [--restores 15]
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


def prepare(wh: Warehouse, store: RollbackStore, relations: list[Relation], rows: int) -> dict[str, Any]:
    """A simulated deploy up to its restore: rollback point, rebuild with other data, check the copies."""
    point = deploy_id()
    snapshot, entries = timed(lambda: store.create(point, relations))
    if any(entry.row_count != rows for entry in entries):
        raise RuntimeError(f"rollback point {point} recorded unexpected row counts")

    def rebuild() -> None:
        for relation in relations:
            wh.drop(relation, "table")
            create_table(wh, relation, rows, variant=1, steady=False)

    rebuilt, _ = timed(rebuild)
    checked, _ = timed(lambda: store.check_copies(point))
    return {"point": point, "entries": entries, "snapshot": snapshot, "rebuild": rebuilt, "check": checked,
            "restore": []}


def put_back(wh: Warehouse, store: RollbackStore, size: dict[str, Any], first: bool) -> None:
    """One timed put_back of a size's point; the first is verified, later ones undo the previous by renames."""
    if not first:
        unrestore(wh, store, size["point"], size["entries"])
    seconds, restored = timed(lambda: store.put_back(size["point"]))
    size["restore"].append(seconds)
    if len(restored) != len(size["relations"]):
        raise RuntimeError(f"restore of {size['point']} restored {len(restored)} of {len(size['relations'])} tables")
    if first:
        size["verify"], mismatches = timed(lambda: store.verify(store.entries(size["point"])))
        if mismatches:
            raise RuntimeError(f"restore of {size['point']} does not verify: {[m.describe() for m in mismatches]}")


def measure(adapter: str, tables: int, sizes: list[tuple[str, int]], restores: int) -> list[dict[str, Any]]:
    """One row per size. Every size is prepared first; then the put_backs run in rounds, one per size per round
    in a rotating order, so a change in the machine's load falls on every size alike."""
    with sandbox(f"restore_{adapter}") as (prefix, directory):
        schema, rollback_schema = f"{prefix}_data", f"{prefix}_rollback"
        with warehouse(adapter, duckdb_path=Path(directory) / "restore.duckdb", schema=schema) as wh:
            wh.ensure_schema(schema)
            store = RollbackStore(wh, rollback_schema)
            store.ensure()
            prepared = []
            for label, rows in sizes:
                relations = [Relation(schema, f"t{label}_{k}") for k in range(1, tables + 1)]

                def build(relations: list[Relation] = relations, rows: int = rows) -> None:
                    for relation in relations:
                        create_table(wh, relation, rows)

                built, _ = timed(build)
                size = {"adapter": adapter, "size": label, "rows": rows, "tables": tables, "built": built,
                        "table_size": relation_size(wh, relations[0]), "relations": relations,
                        **prepare(wh, store, relations, rows)}
                prepared.append(size)
                print(f"[{adapter}] {label}: built {tables} x {rows:,} rows in {built:.2f} s (each table "
                      f"{size['table_size']}), rollback point {size['snapshot']:.3f} s, rebuild "
                      f"{size['rebuild']:.3f} s, check copies {size['check']:.3f} s", flush=True)
            for round_number in range(restores):
                shift = round_number % len(prepared)
                for size in prepared[shift:] + prepared[:shift]:
                    put_back(wh, store, size, first=round_number == 0)
            for size in prepared:
                print(f"[{adapter}] {size['size']}: put back {' / '.join(f'{t:.3f}' for t in size['restore'])} s, "
                      f"verify {size['verify']:.3f} s", flush=True)
                check_original(wh, size["relations"])
                store.drop(size["point"])  # the deployed ('after') versions moved aside by the restore
                for relation in size["relations"]:
                    wh.drop(relation, "table")
    return prepared


def size_label(rows: int) -> str:
    for unit, scale in (("m", 1_000_000), ("k", 1_000)):
        if rows >= scale and rows % scale == 0:
            return f"{rows // scale}{unit}"
    return str(rows)


def main() -> None:
    started = time.perf_counter()
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--tables", type=int, default=3, help="tables in the rollback point (K)")
    cli.add_argument("--sizes", type=rows_arg, nargs="+", default=[10_000, 1_000_000, 10_000_000],
                     help="rows per table, one curve point each; the target compares the largest with the smallest")
    cli.add_argument("--restores", type=int, default=15,
                     help="rounds of put_backs, one per size each (after the first, undone by renames and redone)")
    options = cli.parse_args()
    adapter_list = chosen_adapters(options.adapter)
    sizes = sorted(options.sizes)
    plan = [(size_label(rows), rows) for rows in sizes]
    header("restore time: RollbackStore.restore (check_copies + put_back) and .verify by table size", adapter_list,
           f"K={options.tables} tables; sizes {', '.join(f'{rows:,}' for rows in sizes)} rows per table; "
           f"{options.restores} rounds of put_backs, sizes interleaved; target: put_back at the largest size "
           f"<= {TARGET_RATIO}x the smallest and < {TARGET_SECONDS:.0f} s")
    results = [row for adapter in adapter_list for row in measure(adapter, options.tables, plan, options.restores)]

    print()
    print("Every step (seconds); put_back is the median over its rounds, the rest ran once per size:")
    print(table(
        ["adapter", "rows/table", "tables", "table size", "build tables", "rollback point (create)", "rebuild",
         "check copies", "put_backs timed", "put_back", "put_back min-max", "verify"],
        [[r["adapter"], r["rows"], r["tables"], r["table_size"], r["built"], r["snapshot"], r["rebuild"],
          r["check"], len(r["restore"]), median(r["restore"]), spread(r["restore"]), r["verify"]] for r in results],
    ))
    print()
    print("The restore's transaction (put_back, the only phase that locks prod) against the smallest size; "
          "the scans (check copies before it, verify after) grow with the rows by design:")
    rows = []
    for adapter in adapter_list:
        by_rows = [r for r in results if r["adapter"] == adapter]
        smallest, largest = by_rows[0], by_rows[-1]
        base = median(smallest["restore"])
        met = median(largest["restore"]) / base <= TARGET_RATIO and max(largest["restore"]) < TARGET_SECONDS
        for r in by_rows:
            whole = r["check"] + median(r["restore"])
            rows.append([adapter, r["rows"], median(r["restore"]), ratio(median(r["restore"]), base),
                         max(r["restore"]), whole, ratio(whole, smallest["check"] + base),
                         r["verify"],
                         ("met" if met else "NOT met") if r is largest else ""])
    print(table(
        ["adapter", "rows/table", "put_back s", "put_back vs smallest", "slowest put_back s",
         "whole restore s (check + put_back)", "whole vs smallest", "verify s",
         f"target: largest put_back <= {TARGET_RATIO}x, < {TARGET_SECONDS:.0f} s"],
        rows,
    ))
    footer(started)


if __name__ == "__main__":
    main()

"""Cost of a rollback point for a plain table (e.g. an incremental model, which must be copied), per million rows.

Per adapter and size: build one table (id bigint, label text, amount numeric, created_at timestamp),
then, alternating which goes first, time
  * steward: RollbackStore.create on that one table: copy it (PostgreSQL: CREATE TABLE (LIKE ... INCLUDING
    ALL) + INSERT ... SELECT; DuckDB: CREATE TABLE AS) and compute its row count + checksum, in one transaction;
  * naive:   CREATE TABLE x AS SELECT * FROM t, the plain copy anyone would write;
and, to explain the difference, steward's two parts on their own: Warehouse.copy_table and
Warehouse.fingerprint (count + checksum) of the copy. Every copy is dropped after its measurement.

    .venv/bin/python bench/snapshot_cost.py [--adapter duckdb|postgres|both] [--rows 1M 5M] [--repeats 3]
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


def steward_point(wh: Warehouse, store: RollbackStore, source: Relation) -> float:
    point = deploy_id()
    seconds, entries = timed(lambda: store.create(point, [source]))
    if entries[0].copy is None:
        raise RuntimeError(f"{source} was not copied")
    store.drop(point)
    return seconds


def naive_copy(wh: Warehouse, source: Relation) -> float:
    copy = Relation(source.schema, f"{source.name}_naive")
    seconds, _ = timed(lambda: wh.execute(f"create table {wh.qualified(copy)} as select * from {wh.qualified(source)}"))
    wh.drop(copy, "table")
    return seconds


def steward_parts(wh: Warehouse, source: Relation) -> tuple[float, float]:
    """Warehouse.copy_table, then Warehouse.fingerprint of the copy, each in its own transaction."""
    copy = Relation(source.schema, f"{source.name}_parts")
    copied, _ = timed(lambda: wh.copy_table(source, copy))
    fingerprinted, _ = timed(lambda: wh.fingerprint(copy))
    wh.drop(copy, "table")
    return copied, fingerprinted


def measure(adapter: str, sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    results = []
    with sandbox(f"snapshot_{adapter}") as (prefix, directory):
        schema = f"{prefix}_data"
        with warehouse(adapter, duckdb_path=Path(directory) / "snapshot.duckdb", schema=schema) as wh:
            wh.ensure_schema(schema)
            store = RollbackStore(wh, f"{prefix}_rollback")
            store.ensure()
            for rows in sizes:
                source = Relation(schema, f"incremental_{rows}")
                built, _ = timed(lambda source=source, rows=rows: create_table(wh, source, rows))
                size = relation_size(wh, source)
                print(f"[{adapter}] {rows:,} rows: table built in {built:.2f} s ({size})", flush=True)
                steward, naive, copies, checksums = [], [], [], []
                for n in range(repeats):
                    # Alternate the order, so neither side always runs on the warmer cache.
                    if n % 2 == 0:
                        steward.append(steward_point(wh, store, source))
                        naive.append(naive_copy(wh, source))
                    else:
                        naive.append(naive_copy(wh, source))
                        steward.append(steward_point(wh, store, source))
                    copied, fingerprinted = steward_parts(wh, source)
                    copies.append(copied)
                    checksums.append(fingerprinted)
                    print(f"[{adapter}] {rows:,} rows #{n + 1}: steward {steward[-1]:.3f} s, naive {naive[-1]:.3f} s "
                          f"(copy_table {copied:.3f} s + fingerprint {fingerprinted:.3f} s)", flush=True)
                wh.drop(source, "table")
                results.append({"adapter": adapter, "rows": rows, "size": size, "built": built, "steward": steward,
                                "naive": naive, "copy": copies, "checksum": checksums})
    return results


def main() -> None:
    started = time.perf_counter()
    cli = parser(__doc__.split("\n\n")[0])
    cli.add_argument("--rows", type=rows_arg, nargs="+", default=[1_000_000, 5_000_000], help="table sizes")
    cli.add_argument("--repeats", type=int, default=3, help="measurements of each side per size")
    options = cli.parse_args()
    adapter_list = chosen_adapters(options.adapter)
    header("snapshot cost: RollbackStore.create of one plain table vs CREATE TABLE AS SELECT", adapter_list,
           f"rows={', '.join(f'{r:,}' for r in options.rows)}; repeats={options.repeats} (medians)")
    results = [row for adapter in adapter_list for row in measure(adapter, options.rows, options.repeats)]

    print()
    print(table(
        ["adapter", "rows", "table size", "steward create s", "steward s/M rows", "naive CTAS s", "naive s/M rows",
         "steward/naive", "steward min-max s", "naive min-max s"],
        [[r["adapter"], r["rows"], r["size"], median(r["steward"]), median(r["steward"]) / (r["rows"] / 1e6),
          median(r["naive"]), median(r["naive"]) / (r["rows"] / 1e6), ratio(median(r["steward"]), median(r["naive"])),
          spread(r["steward"]), spread(r["naive"])] for r in results],
    ))
    print()
    print("Where steward's time goes (copy_table and fingerprint timed on their own, medians):")
    print(table(
        ["adapter", "rows", "copy_table s", "copy_table/naive", "fingerprint s", "fingerprint share of steward"],
        [[r["adapter"], r["rows"], median(r["copy"]), ratio(median(r["copy"]), median(r["naive"])),
          median(r["checksum"]), f"{100 * median(r['checksum']) / median(r['steward']):.0f}%"] for r in results],
    ))
    print("steward/naive is not like for like: besides the copy, RollbackStore.create computes a row count and a "
          "checksum of the copy (a full scan hashing every row) so a restore can be verified, and writes one "
          "metadata row; the naive copy does neither.")

    footer(started)


if __name__ == "__main__":
    main()

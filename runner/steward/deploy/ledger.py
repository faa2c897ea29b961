"""The deploy journal as the deploy flow writes and reads it (local first, then the warehouse), and the deletion
of rollback points that outlived their retention."""

from __future__ import annotations

from datetime import datetime

from steward.config.context import Context
from steward.errors import StorageFailed
from steward.warehouse import Warehouse
from steward.warehouse.journal import DeployRecord, LocalJournal, WarehouseJournal, merge
from steward.warehouse.rollback import RollbackStore


class Ledger:
    """Writes each journal record locally first, then to the warehouse when one is open.

    A record the local journal cannot take (disk full, permissions) is written nowhere and raises StorageFailed;
    the records after it (the undo that follows) go to the warehouse only, so the undo is on record somewhere."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.local = LocalJournal(context.project.target_path / "steward" / "journal")
        self.local_failure: StorageFailed | None = None

    def write(self, record: DeployRecord, warehouse: Warehouse | None) -> DeployRecord:
        if self.local_failure is None:
            try:
                self.local.write(record)
            except StorageFailed as failure:
                self.local_failure = failure
                raise
        if warehouse is not None:
            WarehouseJournal(warehouse, self.context.policy.rollback_schema).write(record)
        return record

    def records(self, warehouse: Warehouse | None) -> dict[str, DeployRecord]:
        remote = WarehouseJournal(warehouse, self.context.policy.rollback_schema).records() if warehouse else {}
        target = self.context.project.target_name
        return {key: record for key, record in merge(self.local.records(), remote).items() if record.target == target}

    def unfinished(self, warehouse: Warehouse | None, excluding: str | None = None) -> list[DeployRecord]:
        records = self.records(warehouse).values()
        return sorted((r for r in records if r.unfinished and r.deploy_id != excluding), key=lambda r: r.started_at)


def prune_points(ledger: Ledger, warehouse: Warehouse, keep: int, cutoff: datetime,
                 spare: str | None = None) -> tuple[list[str], int, list[str]]:
    """Delete the rollback points beyond the newest `keep` deploys that started before `cutoff`, never an
    unfinished deploy's nor `spare`'s; (deploys pruned, tables dropped, deploys kept). The caller holds
    the target's lock."""
    store = RollbackStore(warehouse, ledger.context.policy.rollback_schema)
    with_points = store.points()
    records = sorted((r for r in ledger.records(warehouse).values() if r.state != "planned"),
                     key=lambda r: r.started_at, reverse=True)
    pruned, dropped, kept = [], 0, [r.deploy_id for r in records[:keep]]
    for record in records[keep:]:
        if record.unfinished or record.deploy_id == spare or datetime.fromisoformat(record.started_at) > cutoff:
            kept.append(record.deploy_id)
        elif record.deploy_id in with_points:
            dropped += store.drop(record.deploy_id)
            pruned.append(record.deploy_id)
    return pruned, dropped, kept

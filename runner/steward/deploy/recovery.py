"""After a deploy: manual rollback, crash recovery, the list of deploys, and pruning old rollback points."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from steward.config.context import Context
from steward.deploy.blue_green import Stage
from steward.deploy.ledger import Ledger, prune_points
from steward.deploy.restore import NOTHING_CHANGED, interrupted, recoverable, restore_deploy
from steward.errors import BadInput, SafetyRefused
from steward.warehouse import Relation, Warehouse, opened
from steward.warehouse.journal import DeployRecord, timestamp
from steward.warehouse.lock import DeployLock, LockHolder
from steward.warehouse.rollback import Mismatch, RollbackEntry, RollbackStore


@dataclass(frozen=True)
class RollbackOutcome:
    record: DeployRecord  # as journalled: its detail says what was restored
    restored: tuple[RollbackEntry, ...]
    mismatches: tuple[Mismatch, ...]  # changed since the restore, not by it (noted in the record's detail)
    already: bool  # the deploy had been rolled back before: nothing was done
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeployListing:
    record: DeployRecord
    rollback_point: str  # kept, restored, pruned, none


@dataclass(frozen=True)
class PruneOutcome:
    pruned: tuple[str, ...]
    tables_dropped: int
    kept: tuple[str, ...]


def maintenance_lock(context: Context, purpose: str) -> DeployLock:
    now = datetime.now(timezone.utc)
    holder = LockHolder(f"{purpose}-{now:%Y%m%dT%H%M%SZ}", socket.gethostname(), os.getpid(),
                        timestamp(now),
                        timestamp(now + context.policy.lock_lease))
    return DeployLock(context.project, holder, context.policy.rollback_schema)


def rollback(context: Context, deploy_id: str | None = None) -> RollbackOutcome:
    """Restore a deploy's kept rollback point (--last when deploy_id is None) and verify it."""
    ledger = Ledger(context)
    with maintenance_lock(context, "rollback"), opened(context.project.connection) as warehouse, \
            recoverable(context, "rollback"):
        records = ledger.records(warehouse)
        unfinished = [r for r in records.values() if r.unfinished]
        if unfinished:
            raise interrupted(context, unfinished[0])
        ordered = sorted(records.values(), key=lambda r: r.started_at, reverse=True)
        candidates = [r for r in ordered if r.state in ("succeeded", "failed", "rolled_back")]
        if deploy_id is None:
            if not candidates:
                raise BadInput("--last: no deploy of this target has a rollback point")
            record = candidates[0]
        elif deploy_id in records:
            record = records[deploy_id]
        else:
            raise BadInput(f"--deploy-id: no deploy {deploy_id!r} on target {context.project.target_name}")
        if record.state == "rolled_back":
            return RollbackOutcome(record, (), (), already=True)
        store = RollbackStore(warehouse, context.policy.rollback_schema)
        if not store.entries(record.deploy_id):
            raise BadInput(f"--deploy-id: the rollback point of deploy {record.deploy_id} was pruned")
        touched = set(record.relations)
        later = [r for r in ordered if r.started_at > record.started_at and r.state in ("succeeded", "failed")
                 and touched & set(r.relations)]
        if later:
            raise SafetyRefused(f"refused: deploy {later[-1].deploy_id} came later and changed the same relations; "
                                f"roll it back first (steward rollback --deploy-id {later[-1].deploy_id})")
        warnings: list[str] = []
        record, restored, mismatches = restore_deploy(context, ledger, warehouse, record, warnings)
        return RollbackOutcome(record, tuple(restored), tuple(mismatches), already=False, warnings=tuple(warnings))


def recover(context: Context) -> list[RollbackOutcome]:
    """Finish every interrupted deploy and backfill by restoring its rollback point, so each touched relation is
    as it was before it, never part old and part new; the journal says `rolled_back` and what was restored. A
    deploy journalled as succeeded is complete and left alone. Idempotent."""
    ledger = Ledger(context)
    outcomes = []
    with maintenance_lock(context, "recover"), opened(context.project.connection) as warehouse, \
            recoverable(context, "recover"):
        RollbackStore(warehouse, context.policy.rollback_schema).ensure()
        for record in ledger.unfinished(warehouse):
            warnings: list[str] = []
            record, restored, mismatches = restore_deploy(context, ledger, warehouse, record, warnings)
            if record.strategy == "blue-green":
                _drop_stage(context, warehouse, record)
            outcomes.append(RollbackOutcome(record, tuple(restored), tuple(mismatches), already=False,
                                            warnings=tuple(warnings)))
    return outcomes


def _drop_stage(context: Context, warehouse: Warehouse, record: DeployRecord) -> None:
    """An interrupted blue-green deploy may have left its stage (built, or half-built): nothing anyone needs."""
    relations = [Relation(*name.split(".", 1)) for name in record.relations]
    Stage.for_adapter(context.project.adapter_type, relations).clear(warehouse)


def list_deploys(context: Context) -> list[DeployListing]:
    ledger = Ledger(context)
    with opened(context.project.connection) as warehouse:
        points = RollbackStore(warehouse, context.policy.rollback_schema).points()
        listings = []
        for record in sorted(ledger.records(warehouse).values(), key=lambda r: r.started_at, reverse=True):
            if record.state == "planned":
                continue
            if record.deploy_id not in points:
                # A rejected blue-green deploy published nothing, so it never had a point; nor had a deploy
                # interrupted before it changed anything.
                never = record.state in ("locked", "staging", "rejected") or record.detail == NOTHING_CHANGED
                point = "none" if never else "pruned"
            elif points[record.deploy_id]:
                point = "restored"
            else:
                point = "kept"
            listings.append(DeployListing(record, point))
        return listings


def prune(context: Context, keep: int | None = None, older_than: timedelta | None = None) -> PruneOutcome:
    """Delete rollback points beyond the newest `keep` and older than `older_than` (defaults: the policy's)."""
    keep = context.policy.rollback_keep if keep is None else keep
    if keep < 0:
        raise BadInput("--keep: must be 0 or more")
    cutoff = datetime.now(timezone.utc) - (older_than if older_than is not None else context.policy.rollback_retention)
    with maintenance_lock(context, "prune"), opened(context.project.connection) as warehouse:
        pruned, dropped, kept = prune_points(Ledger(context), warehouse, keep, cutoff)
    return PruneOutcome(tuple(pruned), dropped, tuple(kept))

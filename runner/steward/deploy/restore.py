"""Restoring a deploy's rollback point and verifying it: what a failed deploy, `steward rollback` and
`steward recover` all end with; and how an interrupted deploy is named to the person who must finish it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from steward.config.context import Context
from steward.deploy.ledger import Ledger
from steward.deploy.withdrawn import mark_withdrawn
from steward.errors import ConnectionLost, RecoveryRequired, RollbackFailed
from steward.warehouse import Warehouse
from steward.warehouse.journal import DeployRecord
from steward.warehouse.rollback import Mismatch, RestoreUnverified, RollbackEntry, RollbackStore

# What the journal says of an interrupted deploy that had not changed anything yet.
NOTHING_CHANGED = "no rollback point was made: nothing had changed"


def recovery_command(context: Context) -> str:
    project = context.project
    return (f"steward recover --project-dir {project.project_dir} --profiles-dir {project.profiles_dir} "
            f"--target {project.target_name}")


def interrupted(context: Context, record: DeployRecord) -> RecoveryRequired:
    """Exit 6 for an unfinished deploy, with the command that finishes it; a backfill can be continued instead."""
    if record.state == "backfilling":
        return RecoveryRequired(
            f"backfill {record.deploy_id} of {record.selection} was interrupted; undo it with: "
            f"{recovery_command(context)}; or continue it: steward backfill --select {record.selection} "
            f"{record.detail or ''} --resume")
    return RecoveryRequired(f"deploy {record.deploy_id} was interrupted in state {record.state}; "
                            f"run: {recovery_command(context)}")


@contextmanager
def recoverable(context: Context, what: str) -> Iterator[None]:
    """A lost warehouse connection stops `what`; say what finishes it once the warehouse is back (exit 6)."""
    try:
        yield
    except ConnectionLost as lost:
        raise ConnectionLost(f"{what} stopped: {lost}; what it changed is put back, once the warehouse is "
                             f"reachable, by: {recovery_command(context)}") from lost


def restore_deploy(context: Context, ledger: Ledger, warehouse: Warehouse, record: DeployRecord,
                   warnings: list[str] | None = None) -> tuple[DeployRecord, list[RollbackEntry], list[Mismatch]]:
    """Restore a deploy's rollback point in one transaction, verified before it commits; RollbackFailed (exit 5)
    when it cannot be, with the point left intact. Returns the journalled record (`rolled_back`, its detail
    saying what happened), what was restored, and what differs from the point now although the restore matched
    it: changes someone made since, which the journal notes and which do not undo the restore. Once restored, the
    deploy is marked rolled back in the audit log, so the quality scorecard leaves its test results out
    (`withdrawn`); what that could not do is added to `warnings`."""
    store = RollbackStore(warehouse, context.policy.rollback_schema)
    entries = store.entries(record.deploy_id)
    if not entries:
        # The point is made before the build, and a blue-green publish saves it in its own transaction: a deploy
        # without one never changed a relation.
        return ledger.write(record.advanced("rolled_back", NOTHING_CHANGED), warehouse), [], []
    try:
        restored = store.restore(record.deploy_id)
    except ConnectionLost:
        raise
    except RestoreUnverified as unverified:
        record = ledger.write(record.advanced("rollback_failed", f"the restore did not match the rollback point "
                                                                 f"and was undone: {unverified}"), warehouse)
        raise RollbackFailed(
            f"deploy {record.deploy_id}: the restore did not give back what the rollback point holds ({unverified}), "
            f"so it was undone; the rollback point is intact in schema {context.policy.rollback_schema}; "
            f"inspect with: steward deploys --json --target {context.project.target_name}; "
            f"then retry with: {recovery_command(context)}") from unverified
    except Exception as exc:
        record = ledger.write(record.advanced("rollback_failed", " ".join(str(exc).split())), warehouse)
        raise RollbackFailed(
            f"restoring deploy {record.deploy_id} failed and was undone ({' '.join(str(exc).split())}); "
            f"the rollback point is intact in schema {context.policy.rollback_schema}; "
            f"fix the cause, then run: {recovery_command(context)}") from exc
    # A restore made now was verified before it committed (its tables' rows on their copies, its catalog inside the
    # transaction): the catalog is checked again, for changes made since, and the views' rows, which hang on
    # sources a deploy does not restore. A point restored earlier is measured in full.
    drift = store.verify(entries, rows_of=frozenset({"view"}) if restored else frozenset({"table", "view"}))
    if restored:
        detail = f"{len(restored)} relation(s) restored to the rollback point; {warehouse.verified} verified"
    else:
        detail = "already restored to the rollback point"
    if drift:
        detail += f"; changed since the restore, not by it: {'; '.join(m.describe() for m in drift)}"
    record = ledger.write(record.advanced("rolled_back", detail), warehouse)
    mark_withdrawn(context, warehouse, record, "rolled_back", len(entries), [] if warnings is None else warnings)
    return record, restored, drift

"""Restoring a deploy's rollback point and verifying it: what a failed deploy, `steward rollback` and
`steward recover` all end with."""

from __future__ import annotations

from steward.config.context import Context
from steward.deploy.ledger import Ledger
from steward.deploy.withdrawn import mark_withdrawn
from steward.errors import RollbackFailed
from steward.warehouse import Warehouse
from steward.warehouse.journal import DeployRecord
from steward.warehouse.rollback import Mismatch, RollbackEntry, RollbackStore


def recovery_command(context: Context) -> str:
    project = context.project
    return (f"steward recover --project-dir {project.project_dir} --profiles-dir {project.profiles_dir} "
            f"--target {project.target_name}")


def restore_deploy(context: Context, ledger: Ledger, warehouse: Warehouse, record: DeployRecord,
                   warnings: list[str] | None = None) -> tuple[DeployRecord, list[RollbackEntry], list[Mismatch]]:
    """Restore a deploy's rollback point in one transaction and verify it; RollbackFailed (exit 5) on any doubt.
    Once restored, the deploy is marked rolled back in the audit log, so the quality scorecard leaves its test
    results out (`withdrawn`); what that could not do is added to `warnings`."""
    store = RollbackStore(warehouse, context.policy.rollback_schema)
    try:
        restored = store.restore(record.deploy_id)
    except Exception as exc:
        record = ledger.write(record.advanced("rollback_failed", " ".join(str(exc).split())), warehouse)
        raise RollbackFailed(
            f"restoring deploy {record.deploy_id} failed and was undone ({' '.join(str(exc).split())}); "
            f"the rollback point is intact in schema {context.policy.rollback_schema}; "
            f"fix the cause, then run: {recovery_command(context)}") from exc
    entries = store.entries(record.deploy_id)
    mismatches = store.verify(entries)
    if mismatches:
        details = "; ".join(m.describe() for m in mismatches)
        record = ledger.write(record.advanced("rollback_failed", details), warehouse)
        raise RollbackFailed(
            f"deploy {record.deploy_id}: restored relations do not match the rollback point: {details}; "
            f"inspect with: steward deploys --json --target {context.project.target_name}; "
            f"then retry with: {recovery_command(context)}")
    detail = f"{len(restored)} relation(s) restored and verified" if restored else "already restored; verified"
    record = ledger.write(record.advanced("rolled_back", detail), warehouse)
    mark_withdrawn(context, warehouse, record, "rolled_back", len(entries), [] if warnings is None else warnings)
    return record, restored, mismatches

"""What a deploy writes as its report: its record and rollback data as the reports see them, then every format
beside them. The reports package knows nothing of deploys; this module hands it a `DeployRecordView`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from steward.config.context import Context
from steward.deploy.result import DeployResult
from steward.errors import StorageFailed
from steward.redact import redact_text
from steward.reports.collect import collect
from steward.reports.formats import write_all
from steward.reports.model import DeployRecordView, RelationRecord
from steward.reports.rundir import deploys_root, write_artifacts, write_deploy_data
from steward.warehouse import Warehouse


def report_dir(context: Context, deploy_id: str) -> Path:
    return deploys_root(context.project.target_path) / deploy_id


def _measured_after(warehouse: Warehouse, result: DeployResult) -> dict[str, tuple[int, str]]:
    """Count and checksum of each deployed table now, by relation name; views and absent relations are
    not measured. A verified rollback has just measured every relation and found its rollback point's
    values, so they are not measured again."""
    tables = [entry for entry in result.rollback_point if entry.kind == "table" and not entry.external]
    if result.record.state == "rolled_back" and not result.mismatches:
        return {str(e.relation): (e.row_count, e.checksum) for e in tables
                if e.row_count is not None and e.checksum is not None}
    entries = [entry for entry in result.rollback_point if not entry.external]
    kinds = warehouse.relation_kinds([entry.relation for entry in entries])
    now_tables = [entry.relation for entry in entries if kinds[entry.relation] == "table"]
    return {str(relation): values for relation, values in warehouse.fingerprints(now_tables).items()}


def deploy_view(context: Context, result: DeployResult, warehouse: Warehouse) -> DeployRecordView:
    record = result.record
    restored = {str(entry.relation) for entry in result.restored}
    after = _measured_after(warehouse, result)
    relations = []
    for entry in result.rollback_point:
        count_after, checksum_after = after.get(str(entry.relation), (None, None))
        relations.append(RelationRecord(
            relation=str(entry.relation), kind_before=entry.kind, external=entry.external,
            row_count_before=entry.row_count, checksum_before=entry.checksum, row_count_after=count_after,
            checksum_after=checksum_after, restored=str(entry.relation) in restored))
    elapsed = (datetime.fromisoformat(record.updated_at) - datetime.fromisoformat(record.started_at)).total_seconds()
    return DeployRecordView(
        deploy_id=record.deploy_id, status=record.state, tier=record.tier, started_at=record.started_at,
        finished_at=record.updated_at, elapsed_seconds=elapsed, git_branch=record.git_branch,
        git_sha=record.git_sha, selection=record.selection, exclusion=record.exclusion,
        full_refresh=record.full_refresh, override_reason=record.override_reason,
        error=_failure(result), warnings=tuple(result.warnings),
        rollback_schema=context.policy.rollback_schema, kept_until=record.keep_until, relations=tuple(relations),
        mismatches=tuple(m.describe() for m in result.mismatches))


def _failure(result: DeployResult) -> str | None:
    """Why the deploy failed: dbt's error, else the nodes that failed, else what the journal recorded."""
    outcome = result.outcome
    if outcome is not None and outcome.error:
        return outcome.error
    if outcome is not None and outcome.failed_nodes:
        return "failed: " + ", ".join(node.unique_id for node in outcome.failed_nodes)
    return result.record.detail if result.record.state in ("failed", "rollback_failed") else None


def write_reports(context: Context, result: DeployResult, warehouse: Warehouse) -> Path:
    """Write deploy.json, the run's dbt artifacts and every report format under target/steward/<deploy-id>/."""
    directory = report_dir(context, result.deploy_id)
    secrets = context.project.connection.secrets

    def redact(text: str) -> str:
        return redact_text(text, secrets)

    view = deploy_view(context, result, warehouse)
    project = context.project
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_deploy_data(directory, view, redact)
        write_artifacts(directory, context.project.target_path, result.record.started_at, redact)
        report = collect(directory, project.name, project.target_name, project.adapter_type, warehouse,
                         str(project.connection.settings.get("schema") or ""), deploy=view)
        write_all(report, directory, redact)
    except OSError as exc:
        raise StorageFailed(f"cannot write the report directory {directory}: {exc.strerror or exc}") from exc
    return directory

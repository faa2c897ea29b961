"""Deploy reports written under target/steward/<deploy-id>/."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.redact import redact_text

if TYPE_CHECKING:
    from steward.context import Context
    from steward.deploy import DeployResult


def report_dir(context: Context, deploy_id: str) -> Path:
    return context.project.target_path / "steward" / deploy_id


def summary(context: Context, result: DeployResult) -> dict[str, Any]:
    record = result.record
    nodes = result.outcome.nodes if result.outcome else ()
    by_status: dict[str, int] = {}
    for node in nodes:
        by_status[node.status] = by_status.get(node.status, 0) + 1
    elapsed = (datetime.fromisoformat(record.updated_at) - datetime.fromisoformat(record.started_at)).total_seconds()
    restored = {str(entry.relation) for entry in result.restored}
    return {
        "schema_version": 1,
        "deploy_id": record.deploy_id,
        "project": record.project,
        "target": record.target,
        "tier": record.tier,
        "adapter": record.adapter,
        "status": record.state,
        "started_at": record.started_at,
        "finished_at": record.updated_at,
        "elapsed_seconds": elapsed,
        "git": {"branch": record.git_branch, "sha": record.git_sha},
        "selection": record.selection,
        "override_reason": record.override_reason,
        "counts": by_status,
        "error": (result.outcome.error if result.outcome else None) or record.detail,
        "warnings": result.warnings,
        "rollback": {
            "schema": context.policy.rollback_schema,
            "kept_until": record.keep_until,
            "relations": [
                {
                    "relation": str(entry.relation),
                    "kind_before": entry.kind,
                    "external": entry.external,
                    "row_count_before": entry.row_count,
                    "checksum_before": entry.checksum,
                    "restored": str(entry.relation) in restored,
                }
                for entry in result.rollback_point
            ],
            "mismatches": [mismatch.describe() for mismatch in result.mismatches],
        },
        "nodes": [
            {
                "unique_id": node.unique_id,
                "resource_type": node.resource_type,
                "status": node.status,
                "execution_time": round(node.execution_time, 3),
                "failures": node.failures,
                "rows_affected": node.rows_affected,
                "relation": node.relation,
                "message": node.message,
            }
            for node in nodes
        ],
    }


def markdown(data: dict[str, Any]) -> str:
    lines = [
        f"# steward deploy {data['deploy_id']}",
        "",
        f"- project: `{data['project']}`, target `{data['target']}` ({data['tier']})",
        f"- status: **{data['status']}**",
        f"- elapsed: {data['elapsed_seconds']:.1f} s",
        f"- nodes: {', '.join(f'{count} {status}' for status, count in sorted(data['counts'].items())) or 'none'}",
        f"- rollback point: {len(data['rollback']['relations'])} relation(s) in `{data['rollback']['schema']}`, "
        f"kept until {data['rollback']['kept_until']}",
        *([f"- error: {data['error']}"] if data["error"] else []),
        "",
        "| node | type | status | seconds | failures |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    rolled_back = [r for r in data["rollback"]["relations"] if r["restored"]]
    if rolled_back:
        lines[-3:-3] = ["## Rolled back", "", "| relation | rows before | checksum before |", "| --- | ---: | ---: |",
                        *(f"| `{r['relation']}` | {r['row_count_before']} | {r['checksum_before']} |"
                          for r in rolled_back), ""]
    for node in data["nodes"]:
        failures = "" if node["failures"] is None else node["failures"]
        lines.append(
            f"| `{node['unique_id']}` | {node['resource_type']} | {node['status']} "
            f"| {node['execution_time']:.2f} | {failures} |"
        )
    return "\n".join(lines) + "\n"


def write_reports(context: Context, result: DeployResult) -> Path:
    directory = report_dir(context, result.deploy_id)
    directory.mkdir(parents=True, exist_ok=True)
    data = summary(context, result)
    secrets = context.project.connection.secrets
    (directory / "report.json").write_text(redact_text(json.dumps(data, indent=2, default=str), secrets))
    (directory / "report.md").write_text(redact_text(markdown(data), secrets))
    return directory

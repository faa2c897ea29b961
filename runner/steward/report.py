"""Deploy reports written under target/steward/<deploy-id>/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.redact import redact_text

if TYPE_CHECKING:
    from steward.context import Context
    from steward.deploy import DeployResult


def report_dir(context: Context, deploy_id: str) -> Path:
    return context.project.target_path / "steward" / deploy_id


def summary(context: Context, result: DeployResult) -> dict[str, Any]:
    nodes = result.outcome.nodes if result.outcome else ()
    by_status: dict[str, int] = {}
    for node in nodes:
        by_status[node.status] = by_status.get(node.status, 0) + 1
    elapsed = (result.finished_at - result.started_at).total_seconds() if result.finished_at else None
    return {
        "schema_version": 1,
        "deploy_id": result.deploy_id,
        "project": context.project.name,
        "target": result.target,
        "tier": context.tier,
        "status": result.status,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat() if result.finished_at else None,
        "elapsed_seconds": elapsed,
        "git": {"branch": context.environment.git.branch, "sha": context.environment.git.sha},
        "counts": by_status,
        "error": result.outcome.error if result.outcome else None,
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
        f"- elapsed: {data['elapsed_seconds']:.1f} s" if data["elapsed_seconds"] is not None else "- elapsed: n/a",
        f"- nodes: {', '.join(f'{count} {status}' for status, count in sorted(data['counts'].items())) or 'none'}",
        "",
        "| node | type | status | seconds | failures |",
        "| --- | --- | --- | ---: | ---: |",
    ]
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

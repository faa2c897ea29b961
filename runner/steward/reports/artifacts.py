"""dbt's run_results.json and manifest.json: reading them into NodeRuns, and keeping a deploy's copy."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from steward.dbt.invocation import TEST_TYPES
from steward.errors import BadInput
from steward.reports.model import NodeRun
from steward.reports.quality import dimension_of

RUN_RESULTS = "run_results.json"
MANIFEST = "manifest.json"
HOOK_PREFIX = "operation."  # on-run-start/-end hooks: run results, but not nodes of the graph


def load_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise BadInput(f"report: cannot read {path}: {' '.join(str(exc).split())}") from exc
    return parse_json(path, text)


def parse_json(path: Path, text: str) -> dict[str, Any]:
    """`text`, read from `path`, as JSON; BadInput naming the file when it is not."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadInput(f"report: cannot read {path}: {' '.join(str(exc).split())}") from exc


def node_runs(run_results: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[NodeRun]:
    """Every node result of the run (hooks aside), with what the manifest says about its node."""
    nodes = manifest.get("nodes") or {}
    runs = []
    for result in run_results.get("results") or []:
        unique_id = result["unique_id"]
        if unique_id.startswith(HOOK_PREFIX):
            continue
        node = nodes.get(unique_id) or {}
        config = node.get("config") or {}
        execute = next((t for t in result.get("timing") or [] if t.get("name") == "execute"), None)
        compile_ = next((t for t in result.get("timing") or [] if t.get("name") == "compile"), None)
        adapter_response = result.get("adapter_response") or {}
        resource_type = node.get("resource_type") or unique_id.split(".", 1)[0]
        is_test = resource_type in TEST_TYPES
        runs.append(NodeRun(
            unique_id=unique_id,
            name=node.get("name") or unique_id.rsplit(".", 1)[-1],
            resource_type=resource_type,
            status=str(result.get("status")),
            execution_time=round(float(result.get("execution_time") or 0.0), 3),
            started_at=(compile_ or execute or {}).get("started_at"),
            completed_at=(execute or compile_ or {}).get("completed_at"),
            package=node.get("package_name"),
            materialized=config.get("materialized"),
            relation=result.get("relation_name") or node.get("relation_name"),
            rows_affected=adapter_response.get("rows_affected"),
            failures=result.get("failures"),
            message=result.get("message"),
            dimension=dimension_of(node) if is_test else None,
            attached_node=node.get("attached_node") if is_test else None,
            failing_rows_query=_failing_rows_query(result, node) if is_test else None,
        ))
    return runs


def failed_hooks(run_results: Mapping[str, Any]) -> list[str]:
    """'<hook>: <message>' for each on-run-start/-end hook that did not succeed."""
    return [f"{r['unique_id']}: {' '.join(str(r.get('message') or r.get('status')).split())}"
            for r in run_results.get("results") or []
            if r["unique_id"].startswith(HOOK_PREFIX) and r.get("status") not in ("success", "pass")]


def _failing_rows_query(result: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """The stored failures when the test keeps them, else the test's own query (it selects the failing rows)."""
    stored = result.get("relation_name") or node.get("relation_name")
    if (node.get("config") or {}).get("store_failures") and stored:
        return f"select * from {stored}"
    code = result.get("compiled_code") or node.get("compiled_code")
    return " ".join(code.split()) if code else None


def manifest_subset(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> dict[str, Any]:
    """The manifest's metadata and the nodes a run touched (and the models its tests test): what a report reads."""
    nodes = manifest.get("nodes") or {}
    wanted = set(unique_ids)
    wanted |= {nodes[uid]["attached_node"] for uid in list(wanted) if (nodes.get(uid) or {}).get("attached_node")}
    return {"metadata": manifest.get("metadata") or {},
            "nodes": {uid: nodes[uid] for uid in sorted(wanted) if uid in nodes}}

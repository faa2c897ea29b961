"""report.json: the stable machine-readable form, documented in docs/reports.md and docs/report.schema.json.

Additive changes keep SCHEMA_VERSION; removing or changing the meaning of a field raises it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from steward.reports.delivery import closing_line, tests_passed
from steward.reports.model import Report

SCHEMA_NAME = "steward-report"
SCHEMA_VERSION = 1


def document(report: Report) -> dict[str, Any]:
    passed, total = tests_passed(report)
    deploy = report.deploy
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "project": report.project,
        "target": report.target,
        "adapter": report.adapter,
        "status": report.status,
        "elapsed_seconds": report.elapsed_seconds,
        "closing_line": closing_line(report),
        "dbt": {"version": report.dbt_version, "invocation_id": report.invocation_id,
                "generated_at": report.generated_at},
        "summary": {
            "nodes_by_status": report.counts_by_status(),
            "models_built": len(report.models_built),
            "nodes_built": asdict(report.built()),
            "rows_affected": report.rows,
            "tests_run": total,
            "tests_passed": passed,
            "tests_failed": sum(1 for t in report.tests if t.failed),
            "tests_warned": sum(1 for t in report.tests if t.status == "warn"),
        },
        "quality": {
            "source": report.scorecard.source,
            "score": report.scorecard.score,
            "dimensions": [asdict(d) for d in report.scorecard.dimensions],
            "models": [asdict(m) for m in report.scorecard.models],
        },
        "deploy": None if deploy is None else {
            key: value for key, value in asdict(deploy).items() if key not in ("relations", "mismatches")
        },
        "rollback": None if deploy is None else {
            "schema": deploy.rollback_schema,
            "kept_until": deploy.kept_until,
            "relations": [asdict(r) for r in deploy.relations],
            "mismatches": list(deploy.mismatches),
        },
        "nodes": [asdict(node) for node in report.nodes],
        "notes": list(report.notes),
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"

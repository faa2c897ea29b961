"""The console summary: nodes by status, the slowest nodes, failed tests with their rows, quality, rollback."""

from __future__ import annotations

from steward.reports.delivery import closing_line, score_text
from steward.reports.model import Report

SOURCE_NAMES = {"steward_quality_scorecard": "the steward_quality_scorecard table", "run_tests": "this run's tests"}


def render(report: Report, slowest: int = 5) -> str:
    deploy = report.deploy
    what = f"deploy {deploy.deploy_id}" if deploy else f"dbt run {report.invocation_id or ''}".rstrip()
    lines = [f"steward report: {report.project} on {report.target} ({report.adapter}), {what}: {report.status}"]
    counts = report.counts_by_status()
    lines.append("Nodes by status: " + (", ".join(f"{status} {count}" for status, count in counts.items())
                                        or "no nodes ran"))
    if report.nodes:
        lines.append(f"Slowest {min(slowest, len(report.nodes))} nodes:")
        lines += [f"  {node.execution_time:8.2f}s  {node.unique_id}" for node in report.slowest(slowest)]
    failed_models = [n for n in report.nodes if n.failed and not n.is_test]
    for node in failed_models:
        lines.append(f"Failed {node.resource_type} {node.unique_id}: {node.message or node.status}")
    failed = report.problem_tests
    if failed:
        lines.append(f"Tests that failed or warned ({len(failed)}):")
        for test in failed:
            rows = f"{test.failures} failing row(s)" if test.failures is not None else (test.message or test.status)
            on = f" on {test.attached_node}" if test.attached_node else ""
            lines.append(f"  {test.status:<5} {test.unique_id} [{test.dimension}]{on}: {rows}")
            if test.failing_rows_query:
                lines.append(f"        rows: {test.failing_rows_query}")
    card = report.scorecard
    lines.append(f"Quality score {score_text(card.score)} (from {SOURCE_NAMES.get(card.source, card.source)})"
                 + (": " + ", ".join(f"{d.dimension} {score_text(d.score)} ({d.tests_run})" for d in card.dimensions)
                    if card.dimensions else ""))
    if deploy:
        restored = sum(1 for r in deploy.relations if r.restored)
        lines.append(f"Rollback point: {len(deploy.relations)} relation(s) in {deploy.rollback_schema}, kept until "
                     f"{deploy.kept_until}" + (f"; {restored} restored and verified" if restored else ""))
        lines += [f"  mismatch: {m}" for m in deploy.mismatches]
        if deploy.error:
            lines.append(f"Error: {deploy.error}")
    lines += [f"Note: {note}" for note in report.notes]
    lines.append(closing_line(report))
    return "\n".join(lines) + "\n"

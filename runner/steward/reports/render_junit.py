"""report.xml: JUnit XML, a testcase per node, grouped in a testsuite per resource type.

A failed test is a <failure> (its failing-row count and the query to see the rows), a model that
errored an <error>, a skipped node <skipped/>; a warning passes and says so in <system-out>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from steward.reports.model import NodeRun, Report

ERROR_STATUSES = frozenset({"error", "runtime error"})


def _testcase(report: Report, node: NodeRun) -> ET.Element:
    case = ET.Element("testcase", name=node.unique_id, classname=f"{report.project}.{node.resource_type}",
                      time=f"{node.execution_time:.3f}")
    detail = "\n".join(part for part in (
        node.message, f"failing rows: {node.failures}" if node.failures is not None else None,
        f"rows: {node.failing_rows_query}" if node.failing_rows_query else None) if part)
    if node.status == "fail":
        rows = f"{node.failures} failing row(s)" if node.failures is not None else "failed"
        ET.SubElement(case, "failure", message=rows, type="fail").text = detail
    elif node.status in ERROR_STATUSES:
        ET.SubElement(case, "error", message=(node.message or node.status)[:500], type=node.status).text = detail
    elif node.status == "skipped":
        ET.SubElement(case, "skipped", message=node.message or "skipped: an upstream node failed")
    elif node.status == "warn":
        ET.SubElement(case, "system-out").text = f"warning: {detail}"
    return case


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=f"steward {report.project} {report.target}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for resource_type in sorted({node.resource_type for node in report.nodes}):
        nodes = [n for n in report.nodes if n.resource_type == resource_type]
        counts = {"tests": len(nodes), "failures": sum(1 for n in nodes if n.status == "fail"),
                  "errors": sum(1 for n in nodes if n.status in ERROR_STATUSES),
                  "skipped": sum(1 for n in nodes if n.status == "skipped")}
        suite = ET.SubElement(root, "testsuite", name=f"{report.project}.{resource_type}",
                              time=f"{sum(n.execution_time for n in nodes):.3f}",
                              **{key: str(value) for key, value in counts.items()})
        started = min((n.started_at for n in nodes if n.started_at), default=None)
        if started:
            suite.set("timestamp", started.replace("Z", "").split("+")[0])
        for node in nodes:
            suite.append(_testcase(report, node))
        totals = {key: totals[key] + counts[key] for key in totals}
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{report.elapsed_seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

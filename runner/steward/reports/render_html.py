"""report.html: one self-contained page (inline CSS, SVG and script; nothing is fetched when it opens).

Sections: the quality scorecard, a timeline of node timings, test results by quality dimension, the
deploy's rollback record, and every node.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from steward.reports.delivery import closing_line, duration, score_text
from steward.reports.model import NodeRun, Report

STATUS_COLOURS = {"success": "#2e7d32", "pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828",
                  "error": "#c62828", "runtime error": "#c62828", "skipped": "#9e9e9e", "no-op": "#78909c",
                  "succeeded": "#2e7d32", "rolled_back": "#ef6c00", "failed": "#c62828", "rejected": "#c62828",
                  "rollback_failed": "#c62828"}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{background:#1d3557;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;opacity:.92}main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;margin:16px 0;padding:12px 18px}
h2{font-size:17px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e8edf2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;color:#fff;font-size:12px}
.score{font-size:44px;font-weight:700;margin:0 18px 0 0}.scorecard{display:flex;align-items:center;gap:12px}
code{font-size:12px;background:#f0f3f7;padding:1px 4px;border-radius:3px;word-break:break-all}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}.muted{color:#5c6b7a}
"""
SCRIPT = """
document.getElementById('only-problems').addEventListener('change', function (event) {
  document.querySelectorAll('tr.ok').forEach(function (row) {
    row.style.display = event.target.checked ? 'none' : '';
  });
});
"""


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{STATUS_COLOURS.get(status, "#546e7a")}">{escape(status)}</span>'


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _scorecard(report: Report) -> str:
    card = report.scorecard
    bars = []
    for index, dimension in enumerate(card.dimensions):
        width = 3.0 * (dimension.score or 0)
        y = index * 26
        colour = STATUS_COLOURS.get(dimension.status, "#546e7a")
        bars.append(
            f'<text x="0" y="{y + 15}" font-size="12">{escape(dimension.dimension)}</text>'
            f'<rect x="110" y="{y + 3}" width="300" height="16" fill="#e8edf2"/>'
            f'<rect x="110" y="{y + 3}" width="{width:.1f}" height="16" fill="{colour}"/>'
            f'<text x="420" y="{y + 15}" font-size="12">{escape(score_text(dimension.score))} '
            f'({dimension.passed}/{dimension.tests_run})</text>')
    chart = (f'<svg role="img" aria-label="score by dimension" width="520" height="{26 * len(bars) + 4}">'
             + "".join(bars) + "</svg>") if bars else '<p class="muted">No tests ran.</p>'
    source = ("the package's steward_quality_scorecard table" if card.source == "steward_quality_scorecard"
              else "this run's tests (pass share x 100)")
    models = ""
    if card.models:
        rows = "".join(f"<tr><td><code>{escape(m.model)}</code></td><td class='num'>{escape(score_text(m.score))}"
                       f"</td><td>{_badge(m.status)}</td></tr>" for m in card.models)
        models = ("<details><summary>Score by model</summary><table><tr><th>model</th><th>score</th>"
                  f"<th>status</th></tr>{rows}</table></details>")
    return (f'<section id="scorecard"><h2>Quality scorecard</h2><div class="scorecard">'
            f'<p class="score">{escape(score_text(card.score))}</p>{chart}</div>'
            f'<p class="muted">Source: {escape(source)}.</p>{models}</section>')


def _timeline(report: Report) -> str:
    timed = [(n, _instant(n.started_at), _instant(n.completed_at)) for n in report.nodes]
    timed = [(n, start, end) for n, start, end in timed if start and end]
    if not timed:
        return '<section id="timeline"><h2>Timeline</h2><p class="muted">No node timings.</p></section>'
    origin = min(start for _, start, _ in timed)
    span = max((end - origin).total_seconds() for _, _, end in timed) or 1.0
    width, label, row = 900, 300, 16
    scale = (width - label - 10) / span
    bars = []
    for index, (node, start, end) in enumerate(sorted(timed, key=lambda item: (item[1], item[0].unique_id))):
        x = label + (start - origin).total_seconds() * scale
        w = max((end - start).total_seconds() * scale, 1.5)
        y = index * row
        bars.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(_label(node))}</text>'
                    f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row - 4}" '
                    f'fill="{STATUS_COLOURS.get(node.status, "#546e7a")}"><title>{escape(node.unique_id)}: '
                    f'{escape(node.status)}, {node.execution_time:.2f}s</title></rect>')
    return (f'<section id="timeline"><h2>Timeline ({escape(duration(span))} from the first node to the last)</h2>'
            f'<svg role="img" aria-label="node timings" width="{width}" height="{row * len(bars) + 4}">'
            + "".join(bars) + "</svg></section>")


def _label(node: NodeRun, width: int = 46) -> str:
    label = f"{node.resource_type} {node.name}"
    return label if len(label) <= width else label[: width - 1] + "…"


def _test_row(test: NodeRun) -> str:
    ok = "ok" if test.status in ("pass", "skipped", "no-op") else "problem"
    query = f"<br><code>{escape(test.failing_rows_query)}</code>" if test.failing_rows_query and ok != "ok" else ""
    return (f'<tr class="{ok}"><td>{_badge(test.status)}</td><td><code>{escape(test.unique_id)}</code>{query}</td>'
            f"<td><code>{escape(test.attached_node or '')}</code></td><td class='num'>"
            f"{'' if test.failures is None else test.failures}</td></tr>")


def _tests_by_dimension(report: Report) -> str:
    groups = []
    for dimension in sorted({t.dimension or "unclassified" for t in report.tests}):
        tests = [t for t in report.tests if (t.dimension or "unclassified") == dimension]
        passed = sum(1 for t in tests if t.status == "pass")
        problems = any(t.failed or t.status == "warn" for t in tests)
        groups.append(
            f'<details{" open" if problems else ""}><summary>{escape(dimension)}: {passed}/{len(tests)} passed'
            "</summary><table><tr><th>status</th><th>test</th><th>model</th><th>failing rows</th></tr>"
            + "".join(_test_row(t) for t in tests) + "</table></details>")
    body = "".join(groups) or '<p class="muted">No tests ran.</p>'
    return ('<section id="tests"><h2>Test results by quality dimension</h2><label><input type="checkbox" '
            f'id="only-problems"> show only failures and warnings</label>{body}</section>')


def _rollback(report: Report) -> str:
    deploy = report.deploy
    if deploy is None:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(r.relation)}</code>{' (outside view)' if r.external else ''}</td>"
        f"<td>{escape(r.kind_before or 'absent')}</td><td class='num'>{_num(r.row_count_before)}</td>"
        f"<td class='num'>{escape(r.checksum_before or '')}</td><td class='num'>{_num(r.row_count_after)}</td>"
        f"<td class='num'>{escape(r.checksum_after or '')}</td><td>{'restored' if r.restored else ''}</td></tr>"
        for r in deploy.relations)
    mismatches = "".join(f"<li>{escape(m)}</li>" for m in deploy.mismatches)
    return (f'<section id="rollback"><h2>Rollback record</h2><p>{len(deploy.relations)} relation(s) in '
            f"<code>{escape(deploy.rollback_schema)}</code>, kept until {escape(deploy.kept_until or 'n/a')}; "
            f"deploy {_badge(deploy.status)}</p><table><tr><th>relation</th><th>before</th><th>rows before</th>"
            "<th>checksum before</th><th>rows after</th><th>checksum after</th><th></th></tr>"
            f"{rows}</table>" + (f"<ul>{mismatches}</ul>" if mismatches else "") + "</section>")


def _num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _nodes(report: Report) -> str:
    rows = "".join(
        f'<tr class="{"problem" if n.failed or n.status == "warn" else "ok"}"><td>{_badge(n.status)}</td>'
        f"<td><code>{escape(n.unique_id)}</code></td><td>{escape(n.resource_type)}</td>"
        f"<td class='num'>{_num(n.rows_affected)}</td><td class='num'>{n.execution_time:.2f}</td>"
        f"<td>{escape(n.message or '')}</td></tr>" for n in report.nodes)
    return ('<section id="nodes"><details><summary>Every node</summary><table><tr><th>status</th><th>node</th>'
            f"<th>type</th><th>rows</th><th>seconds</th><th>message</th></tr>{rows}</table></details></section>")


def render(report: Report) -> str:
    deploy = report.deploy
    title = f"{report.project}: " + (f"deploy {deploy.deploy_id}" if deploy else "dbt run")
    facts = [f"target {report.target} ({report.adapter})", f"dbt {report.dbt_version or 'unknown'}"]
    if deploy and (deploy.git_branch or deploy.git_sha):
        facts.append(f"git {deploy.git_branch or ''} {(deploy.git_sha or '')[:10]}".strip())
    error = f"<p>Error: {escape(deploy.error)}</p>" if deploy and deploy.error else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>steward report: {escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>steward report: {escape(title)} {_badge(report.status)}</h1>"
        f"<p>{escape(' · '.join(facts))}</p><p>{escape(closing_line(report))}</p>{error}</header><main>"
        + _scorecard(report) + _timeline(report) + _tests_by_dimension(report) + _rollback(report) + _nodes(report)
        + f"</main><script>{SCRIPT}</script></body></html>\n"
    )

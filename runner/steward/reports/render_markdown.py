"""report.md: a pull-request summary of a deploy."""

from __future__ import annotations

from steward.reports.delivery import closing_line, duration, score_text
from steward.reports.model import Report


def cell(value: object) -> str:
    """A value safe inside a Markdown table cell: one line, pipes escaped."""
    text = "" if value is None else " ".join(str(value).split())
    return text.replace("|", "\\|")


def render(report: Report) -> str:
    deploy = report.deploy
    title = f"steward deploy `{deploy.deploy_id}`: {deploy.status}" if deploy else f"dbt run: {report.status}"
    lines = [f"## {title}", "", f"> {closing_line(report)}", "",
             f"- project `{report.project}`, target `{report.target}` ({report.adapter}"
             + (f", {deploy.tier}" if deploy else "") + ")"]
    if deploy:
        git = " ".join(part for part in (deploy.git_branch, (deploy.git_sha or "")[:10]) if part)
        lines.append(f"- git: {git or 'not a git checkout'}; selection: `{deploy.selection or 'all'}`"
                     + (f", exclude `{deploy.exclusion}`" if deploy.exclusion else "")
                     + ("; full refresh" if deploy.full_refresh else ""))
        if deploy.override_reason:
            lines.append(f"- safety override: {cell(deploy.override_reason)}")
        if deploy.error:
            lines.append(f"- error: {cell(deploy.error)}")
        lines += [f"- warning: {cell(w)}" for w in deploy.warnings]
    lines += [f"- note: {cell(n)}" for n in report.notes]

    failures = [n for n in report.nodes if n.failed or n.status == "warn"]
    lines += ["", f"### Failures ({len(failures)})", ""]
    if failures:
        lines += ["| node | status | failing rows | message |", "| --- | --- | ---: | --- |"]
        lines += [f"| `{n.unique_id}` | {n.status} | {cell(n.failures)} | {cell(n.message)} |" for n in failures]
        queries = [n for n in failures if n.failing_rows_query]
        if queries:
            lines += ["", "<details><summary>Queries returning the failing rows</summary>", ""]
            for n in queries:
                lines += [f"`{n.unique_id}`:", "", "```sql", n.failing_rows_query or "", "```", ""]
            lines.append("</details>")
    else:
        lines.append("None.")

    if deploy:
        restored = [r for r in deploy.relations if r.restored]
        lines += ["", f"### Rollback point ({len(deploy.relations)} relations, kept until {deploy.kept_until})", ""]
        lines.append(f"Rolled back: {len(restored)} relation(s), verified against the rollback point."
                     if restored else "Nothing was rolled back.")
        if deploy.relations:
            lines += ["", "| relation | before | rows before | checksum before | rows after | checksum after "
                      "| restored |", "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
            lines += [f"| `{r.relation}`{' (outside view)' if r.external else ''} | {r.kind_before or 'absent'} "
                      f"| {cell(r.row_count_before)} | {cell(r.checksum_before)} | {cell(r.row_count_after)} "
                      f"| {cell(r.checksum_after)} | {'yes' if r.restored else ''} |" for r in deploy.relations]
        lines += [f"- **mismatch**: {cell(m)}" for m in deploy.mismatches]

    card = report.scorecard
    lines += ["", f"### Quality score {score_text(card.score)} (source: `{card.source}`)", ""]
    if card.dimensions:
        lines += ["| dimension | tests | passed | score | status |", "| --- | ---: | ---: | ---: | --- |"]
        lines += [f"| {d.dimension} | {d.tests_run} | {d.passed} | {score_text(d.score)} | {d.status} |"
                  for d in card.dimensions]

    lines += ["", f"### Impacted nodes ({len(report.nodes)}, {duration(report.elapsed_seconds)})", ""]
    if report.nodes:
        lines += ["<details><summary>Every node</summary>", "", "| node | type | status | rows | seconds |",
                  "| --- | --- | --- | ---: | ---: |"]
        lines += [f"| `{n.unique_id}` | {n.resource_type} | {n.status} | {cell(n.rows_affected)} "
                  f"| {n.execution_time:.2f} |" for n in report.nodes]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"

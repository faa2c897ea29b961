"""The report formats: one renderer each, the file a deploy writes it to, and writing them redacted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from steward.reports import render_console, render_html, render_json, render_junit, render_markdown
from steward.reports.model import Report

RENDERERS: dict[str, Callable[[Report], str]] = {
    "console": render_console.render,
    "markdown": render_markdown.render,
    "junit": render_junit.render,
    "json": render_json.render,
    "html": render_html.render,
}
FILE_NAMES = {"console": "report.txt", "markdown": "report.md", "junit": "report.xml", "json": "report.json",
              "html": "report.html"}


def render(report: Report, fmt: str, redact: Callable[[str], str]) -> str:
    return redact(RENDERERS[fmt](report))


def write_all(report: Report, directory: Path, redact: Callable[[str], str]) -> dict[str, Path]:
    """Every format under `directory`; returns where each went."""
    written = {}
    for fmt, name in FILE_NAMES.items():
        path = directory / name
        path.write_text(render(report, fmt, redact))
        written[fmt] = path
    return written

"""`steward lint`: sqlfluff with the dbt templater and the project's own configuration.

sqlfluff runs in a child process: its dbt templater drives dbt in-process, and dbt keeps
process-wide state that must not mix with the runner's own invocations. Rules, dialect and
exclusions come from the project's `.sqlfluff`; steward only adds what ties the templater to the
command's project, profiles directory and target.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from steward.config.context import Context
from steward.dbt.invocation import release_duckdb_file
from steward.errors import BadInput
from steward.redact import redact_text

DEFAULT_PATHS = ("models", "tests", "snapshots", "macros", "analyses")


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    position: int
    code: str
    description: str

    def describe(self) -> str:
        return f"{self.path}:{self.line}:{self.position}: {self.code} {self.description}"


def lint(context: Context, paths: Sequence[str] = ()) -> list[Violation]:
    """Lint `paths` (relative to the project; default: its SQL folders); returns every violation."""
    for module, package in (("sqlfluff", "sqlfluff"), ("sqlfluff_templater_dbt", "sqlfluff-templater-dbt")):
        if importlib.util.find_spec(module) is None:
            raise BadInput(f"lint: {package} is not installed; pip install {package}")
    project = context.project
    wanted = list(paths) or [p for p in DEFAULT_PATHS if (project.project_dir / p).is_dir()]
    missing = [p for p in wanted if not (project.project_dir / p).exists()]
    if missing:
        raise BadInput(f"lint: no such file or folder in {project.project_dir}: {', '.join(missing)}")
    if not wanted:
        return []
    release_duckdb_file()
    with tempfile.TemporaryDirectory(prefix="steward-lint-") as scratch:
        extra = Path(scratch) / "steward.sqlfluff"
        extra.write_text(_templater_config(context))
        done = subprocess.run(
            [sys.executable, "-m", "sqlfluff", "lint", "--config", str(extra), "--format", "json",
             "--nofail", *wanted],
            cwd=project.project_dir, capture_output=True, text=True)
    secrets = project.connection.secrets
    try:
        files = json.loads(done.stdout)
    except ValueError:
        tail = " ".join((done.stderr or done.stdout).split())[-300:]
        raise BadInput(f"lint: sqlfluff failed: {redact_text(tail, secrets)}") from None
    violations = [
        Violation(item["filepath"], int(v.get("start_line_no") or 0), int(v.get("start_line_pos") or 0),
                  v.get("code") or "", redact_text(v.get("description") or "", secrets))
        for item in files for v in item.get("violations") or [] if not v.get("warning")
    ]
    return sorted(violations, key=lambda v: (v.path, v.line, v.position, v.code))


def _templater_config(context: Context) -> str:
    """The dbt templater settings for this command's project, profiles and target, plus a dialect if none is set."""
    project = context.project
    own = configparser.ConfigParser()
    own.read(project.project_dir / ".sqlfluff")
    lines = ["[sqlfluff]", "templater = dbt"]
    if not own.has_option("sqlfluff", "dialect"):
        lines.append(f"dialect = {project.adapter_type}")
    lines += ["", "[sqlfluff:templater:dbt]", f"project_dir = {project.project_dir}",
              f"profiles_dir = {project.profiles_dir}", f"target = {project.target_name}", ""]
    return "\n".join(lines)


def changed_since_git_base(context: Context) -> list[str] | None:
    """SQL files changed against the merge base with the default branch, and untracked ones; None without git."""
    directory = context.project.project_dir
    base = next((found for branch in ("origin/HEAD", "main", "master")
                 if (found := _git(directory, "merge-base", "HEAD", branch))), None)
    if not base:
        return None
    # Both listings are relative to the project directory (git -C, --relative).
    listed = (_git(directory, "diff", "--name-only", "--relative", base) or "").splitlines()
    listed += (_git(directory, "ls-files", "--others", "--exclude-standard") or "").splitlines()
    return sorted({path for path in listed if path.endswith(".sql") and (directory / path).is_file()})


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None

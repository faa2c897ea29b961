"""`steward lint`: sqlfluff with the dbt templater and the project's own configuration; and which lines of
which files changed, so `steward check` judges a change by the lines it changed.

sqlfluff runs in a child process: its dbt templater drives dbt in-process, and dbt keeps
process-wide state that must not mix with the runner's own invocations. Rules, dialect and
exclusions come from the project's sqlfluff configuration; steward only adds what ties the templater
to the command's project, profiles directory and target, and, when the project names no dialect, the
target adapter's (sqlfluff's own default, ansi, cannot parse most warehouses' SQL).
"""

from __future__ import annotations

import configparser
import difflib
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from steward.config.context import Context
from steward.dbt.invocation import release_duckdb_file
from steward.errors import BadInput
from steward.redact import redact_text

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: a dialect named only in pyproject.toml is not seen
    tomllib = None  # type: ignore[assignment]

DEFAULT_PATHS = ("models", "tests", "snapshots", "macros", "analyses")
# sqlfluff's dialect for a dbt adapter whose name is not already one of sqlfluff's dialects.
DIALECTS = {"spark": "sparksql", "sqlserver": "tsql", "fabric": "tsql", "synapse": "tsql"}
# The lines of a file that changed (1-based), or None when the whole file is new.
ChangedLines = Mapping[str, frozenset[int] | None]


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


def dialect_for(adapter_type: str) -> str:
    return DIALECTS.get(adapter_type, adapter_type)


def project_dialect(directory: Path) -> str | None:
    """The dialect the project's own sqlfluff configuration names (.sqlfluff, setup.cfg, tox.ini, pyproject.toml)."""
    ini = configparser.ConfigParser()
    ini.read([directory / name for name in (".sqlfluff", "setup.cfg", "tox.ini")])
    if ini.has_option("sqlfluff", "dialect"):
        return ini.get("sqlfluff", "dialect")
    pyproject = directory / "pyproject.toml"
    if tomllib is not None and pyproject.is_file():
        try:
            core = tomllib.loads(pyproject.read_text()).get("tool", {}).get("sqlfluff", {}).get("core", {})
        except ValueError:
            return None
        return core.get("dialect")
    return None


def _templater_config(context: Context) -> str:
    """The dbt templater settings for this command's project, profiles and target, plus the target adapter's
    dialect when the project names none."""
    project = context.project
    lines = ["[sqlfluff]", "templater = dbt"]
    if project_dialect(project.project_dir) is None:
        lines.append(f"dialect = {dialect_for(project.adapter_type)}")
    lines += ["", "[sqlfluff:templater:dbt]", f"project_dir = {project.project_dir}",
              f"profiles_dir = {project.profiles_dir}", f"target = {project.target_name}", ""]
    return "\n".join(lines)


def on_changed_lines(violations: Sequence[Violation], changed: ChangedLines) -> list[Violation]:
    """The violations a change is answerable for: on a line it changed, anywhere in a new file, or about the
    whole file (line 0). What was already wrong on untouched lines is left to a full `steward lint`."""
    def counted(violation: Violation) -> bool:
        lines = changed.get(Path(violation.path).as_posix(), frozenset())
        return lines is None or violation.line == 0 or violation.line in lines

    return [violation for violation in violations if counted(violation)]


def changed_lines(before: str, now: str) -> frozenset[int]:
    """Lines of `now` (1-based) that are not in `before`: replaced or inserted, never the untouched ones."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), now.splitlines(), autojunk=False)
    return frozenset(line + 1 for tag, _, _, start, end in matcher.get_opcodes() if tag in ("replace", "insert")
                     for line in range(start, end))


def changed_since_git_base(directory: Path) -> dict[str, frozenset[int] | None] | None:
    """SQL files changed against the merge base with the default branch, with the lines that changed (None for
    an untracked file: all of it is new); None without git."""
    base = next((found for branch in ("origin/HEAD", "main", "master")
                 if (found := _git(directory, "merge-base", "HEAD", branch))), None)
    if not base:
        return None
    changed: dict[str, set[int] | None] = {}
    path = None
    # Relative to the project directory (git -C, --relative); -U0: hunks hold only changed lines.
    for line in (_git(directory, "diff", "-U0", "--relative", "--no-color", "--no-renames", base) or "").splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
            if path is not None:
                changed.setdefault(path, set())
        elif line.startswith("@@") and path is not None and (hunk := _HUNK.match(line)):
            start, count = int(hunk["start"]), int(hunk["count"] or 1)
            changed[path].update(range(start, start + count))  # type: ignore[union-attr]
    for untracked in (_git(directory, "ls-files", "--others", "--exclude-standard") or "").splitlines():
        changed[untracked] = None
    return {name: None if lines is None else frozenset(lines) for name, lines in sorted(changed.items())
            if name.endswith(".sql") and (directory / name).is_file()}


_HUNK = re.compile(r"@@ -\S+ \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None

"""The kept state of a target: the manifest of its last successful deploy.

`steward check` and `steward deploy` compare the working project with it, and `--changed-only`
hands its directory to dbt as `--state`. A deploy of part of the project merges the nodes it
built into the state it found, so nodes it did not build keep their deployed definitions.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.config.project import Project
from steward.dbt.invocation import DbtInvoker
from steward.errors import BadInput

MANIFEST = "manifest.json"


def state_dir(project: Project) -> Path:
    return project.target_path / "steward" / "state" / project.target_name


def kept_manifest(project: Project) -> dict[str, Any] | None:
    path = state_dir(project) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise BadInput(f"state: {path} is not a readable manifest; delete it and deploy again") from exc


def capture(project: Project) -> Path:
    """Set aside the manifest dbt wrote when the deploy parsed, before anything else can overwrite it;
    `keep` makes it the target's state if the deploy succeeds. One deploy per target holds the lock,
    so one name per target suffices."""
    directory = state_dir(project)
    directory.mkdir(parents=True, exist_ok=True)
    parsed = directory / f"{MANIFEST}.parsed"
    shutil.copyfile(project.target_path / MANIFEST, parsed)
    return parsed


def keep(project: Project, built: Iterable[str], whole_project: bool, parsed: Path) -> Path:
    """Make the deploy's parsed manifest (from `capture`) the target's state; a partial deploy merges
    only the nodes it built into the state it found."""
    directory = state_dir(project)
    previous = None if whole_project else kept_manifest(project)
    if previous is None:
        # The file is dbt's own serialisation: moved, not loaded and written again.
        with parsed.open("rb") as handle:
            os.fsync(handle.fileno())
        parsed.replace(directory / MANIFEST)
        return directory / MANIFEST
    manifest = json.loads(parsed.read_text())
    built_ids = set(built)
    merged = {**previous, "nodes": {
        **{uid: node for uid, node in previous["nodes"].items() if uid not in built_ids},
        **{uid: node for uid, node in manifest["nodes"].items() if uid in built_ids},
    }}
    # Written aside, fsynced, then renamed: a crash leaves the previous state, never half a manifest.
    partial = directory / f"{MANIFEST}.partial"
    with partial.open("w") as handle:
        json.dump(merged, handle)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(directory / MANIFEST)
    parsed.unlink()
    return directory / MANIFEST


@dataclass(frozen=True)
class ParsedProject:
    """A deploy's one parse: dbt's manifest object, the copy of its JSON set aside by `capture`, and
    the --vars it was parsed with (later compiles must use the same)."""

    manifest: Any
    path: Path
    vars_args: tuple[str, ...] = ()


def working_manifest(invoker: DbtInvoker, compile_nodes: Iterable[str] = (),
                     parsed: ParsedProject | None = None) -> dict[str, Any]:
    """The working project's manifest as dbt parses it; compiled code for `compile_nodes` when given.

    With `parsed`, the deploy's own parse is reused: read from its JSON, compiled from its manifest."""
    names = sorted(set(compile_nodes))
    if parsed is not None and not names:
        return json.loads(parsed.path.read_text())
    command, extra = (["compile"], ["--select", *names]) if names else (["parse"], [])
    if parsed is not None:
        extra += parsed.vars_args
    step = f"comparing the columns of {', '.join(names)} with the deployed relations (dbt compile)" if names else None
    outcome = invoker.invoke(command, extra, manifest=parsed.manifest if parsed else None, step=step, silent=True)
    if not outcome.success:
        raise BadInput(f"project: dbt {command[0]} failed: {outcome.error or 'see the dbt log'}")
    return json.loads((invoker.project.target_path / MANIFEST).read_text())

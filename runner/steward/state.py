"""The kept state of a target: the manifest of its last successful deploy.

`steward check` and `steward deploy` compare the working project with it, and `--changed-only`
hands its directory to dbt as `--state`. A deploy of part of the project merges the nodes it
built into the state it found, so nodes it did not build keep their deployed definitions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from steward.errors import BadInput
from steward.invocation import DbtInvoker
from steward.project import Project

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


def keep(project: Project, built: Iterable[str], whole_project: bool, manifest: Any = None) -> Path | None:
    """Keep the deploy's manifest (the parsed one it built from, else the one dbt wrote last);
    a partial deploy merges only the nodes it built into the state it found."""
    directory = state_dir(project)
    directory.mkdir(parents=True, exist_ok=True)
    written = project.target_path / MANIFEST
    if manifest is not None:
        written = directory / f"{MANIFEST}.deployed"
        manifest.write(str(written))
    if not written.is_file():
        return None
    manifest = json.loads(written.read_text())
    if written.parent == directory:
        written.unlink()
    previous = kept_manifest(project)
    if previous is not None and not whole_project:
        built_ids = set(built)
        manifest = {**previous, "nodes": {
            **{uid: node for uid, node in previous["nodes"].items() if uid not in built_ids},
            **{uid: node for uid, node in manifest["nodes"].items() if uid in built_ids},
        }}
    # Written aside, fsynced, then renamed: a crash leaves the previous state, never half a manifest.
    partial = directory / f"{MANIFEST}.partial"
    with partial.open("w") as handle:
        json.dump(manifest, handle)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(directory / MANIFEST)
    return directory / MANIFEST


def working_manifest(invoker: DbtInvoker, compile_nodes: Iterable[str] = ()) -> dict[str, Any]:
    """The working project's manifest as dbt parses it; compiled code for `compile_nodes` when given."""
    names = sorted(set(compile_nodes))
    command, extra = (["compile"], ["--select", *names]) if names else (["parse"], [])
    outcome = invoker.invoke(command, extra)
    if not outcome.success:
        raise BadInput(f"project: dbt {command[0]} failed: {outcome.error or 'see the dbt log'}")
    return json.loads((invoker.project.target_path / MANIFEST).read_text())

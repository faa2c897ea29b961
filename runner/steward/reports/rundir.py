"""A deploy's report directory, target/steward/<deploy-id>/: what it holds and how to find the latest.

It keeps everything `steward report` needs to render the deploy again later, even after other dbt
runs have overwritten the project's target/: deploy.json (the record and rollback data), a copy of
run_results.json and the part of manifest.json the run touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from steward.errors import BadInput
from steward.reports.artifacts import MANIFEST, RUN_RESULTS, load_json, manifest_subset, parse_json
from steward.reports.model import DeployRecordView, RelationRecord

DEPLOY_DATA = "deploy.json"
DEPLOY_DATA_VERSION = 1


def deploys_root(target_path: Path) -> Path:
    return target_path / "steward"


def latest_run_dir(target_path: Path) -> Path:
    """The newest deploy's directory (deploy ids start with their UTC time), else dbt's own target dir."""
    root = deploys_root(target_path)
    deploys = sorted(p.parent for p in root.glob(f"*/{DEPLOY_DATA}")) if root.is_dir() else []
    if deploys:
        return deploys[-1]
    if (target_path / RUN_RESULTS).is_file():
        return target_path
    raise BadInput(f"report: no run to report on: no deploy under {root} and no {RUN_RESULTS} in {target_path}; "
                   "run steward deploy (or dbt build) first, or give --run-dir")


def write_artifacts(directory: Path, target_path: Path, started_at: str, redact: Callable[[str], str]) -> None:
    """Copy this deploy's run results and the manifest nodes they name, when dbt wrote them for it."""
    source = target_path / RUN_RESULTS
    if not source.is_file():
        return
    text = source.read_text()
    run_results = parse_json(source, text)
    generated = (run_results.get("metadata") or {}).get("generated_at")
    if not generated or _instant(generated) < _instant(started_at):
        return  # left over from an earlier run: this deploy's build never finished writing its own
    manifest_path = target_path / MANIFEST
    manifest = load_json(manifest_path) if manifest_path.is_file() else {}
    subset = manifest_subset(manifest, (r["unique_id"] for r in run_results.get("results") or []))
    # Not indented (an indent takes json's pure-Python encoder, several times slower), but with dbt's own
    # separators: a space ends what the redaction patterns take for a password, so they cannot run into
    # the next key.
    (directory / RUN_RESULTS).write_text(redact(text))
    (directory / MANIFEST).write_text(redact(json.dumps(subset)))


def write_deploy_data(directory: Path, view: DeployRecordView, redact: Callable[[str], str]) -> None:
    data = {"version": DEPLOY_DATA_VERSION, **asdict(view)}
    (directory / DEPLOY_DATA).write_text(redact(json.dumps(data, indent=2)))


def read_deploy_data(directory: Path) -> DeployRecordView | None:
    path = directory / DEPLOY_DATA
    if not path.is_file():
        return None
    data = load_json(path)
    if data.pop("version", None) != DEPLOY_DATA_VERSION:
        raise BadInput(f"report: {path} was written by another version of steward (expected version "
                       f"{DEPLOY_DATA_VERSION})")
    data["relations"] = tuple(RelationRecord(**item) for item in data.get("relations") or ())
    data["warnings"] = tuple(data.get("warnings") or ())
    data["mismatches"] = tuple(data.get("mismatches") or ())
    return DeployRecordView(**data)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # dbt writes UTC

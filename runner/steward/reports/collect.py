"""Gather one run into a Report: dbt's artifacts, the deploy's record and rollback data, the steward tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steward.config.project import Connection
from steward.errors import StewardError
from steward.reports import quality
from steward.reports.artifacts import MANIFEST, RUN_RESULTS, failed_hooks, load_json, node_runs
from steward.reports.model import DeployRecordView, Report
from steward.reports.rundir import read_deploy_data
from steward.warehouse import Warehouse, connect

# Deploys whose results are not in prod: the runner marks them so the package's scorecard (which describes
# prod) leaves them out, and their reports score their own run's tests instead.
WITHDRAWN = frozenset({"rolled_back", "rejected"})


def collect(run_dir: Path, project: str, target: str, adapter: str, warehouse: Warehouse | None = None,
            target_schema: str | None = None, deploy: DeployRecordView | None = None) -> Report:
    """A Report of the run in `run_dir` (a deploy's report directory, or dbt's target directory).

    With a warehouse, the package's quality scorecard in `target_schema` is used when it exists, except for a
    deploy that was rolled back or rejected: the scorecard describes prod, which that deploy's data is not in.
    """
    deploy = deploy or read_deploy_data(run_dir)
    notes: list[str] = []
    results_path = run_dir / RUN_RESULTS
    if results_path.is_file():
        run_results = load_json(results_path)
        manifest = load_json(run_dir / MANIFEST) if (run_dir / MANIFEST).is_file() else {}
    else:
        run_results, manifest = {}, {}
        notes.append("dbt wrote no run results for this run (it stopped before building)")
    nodes = tuple(node_runs(run_results, manifest))
    notes += [f"hook failed: {hook}" for hook in failed_hooks(run_results)]
    metadata = run_results.get("metadata") or {}
    scorecard = None
    if deploy is not None and deploy.status in WITHDRAWN:
        notes.append(f"quality scored from this run's tests: the deploy was {deploy.status.replace('_', ' ')}, and "
                     "steward_quality_scorecard describes prod, which leaves its results out")
    elif warehouse is not None and target_schema:
        scorecard = quality.from_table(warehouse, target_schema)
    if scorecard is None:
        scorecard = quality.from_run(nodes)
    elapsed = deploy.elapsed_seconds if deploy else float(run_results.get("elapsed_time") or 0.0)
    return Report(
        project=project, target=target, adapter=adapter,
        dbt_version=metadata.get("dbt_version"), invocation_id=metadata.get("invocation_id"),
        generated_at=metadata.get("generated_at"), elapsed_seconds=round(elapsed, 3), nodes=nodes,
        scorecard=scorecard, deploy=deploy, notes=tuple(notes),
    )



@contextmanager
def warehouse_if_reachable(connection: Connection) -> Iterator[Warehouse | None]:
    """The target's warehouse for the steward tables, or None when it cannot be opened now.

    A DuckDB file that does not exist is not opened: connecting would create it.
    """
    path = connection.settings.get("path")
    if connection.adapter_type == "duckdb" and (not path or path == ":memory:" or not Path(path).exists()):
        yield None
        return
    try:
        warehouse = connect(connection)
    except StewardError:
        yield None
        return
    try:
        yield warehouse
    finally:
        warehouse.close()

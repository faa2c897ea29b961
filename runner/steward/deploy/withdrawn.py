"""Marking a deploy whose results are not in prod, in the package's audit log.

A deploy that was rolled back (automatically, by `steward rollback` or by `steward recover`), or a blue-green
deploy rejected before it published, recorded test results that describe data prod no longer holds, or never
held. The runner appends one row for it to steward_invocations (command `steward`, status `rolled_back` or
`rejected`, the deploy's id) and the package's quality scorecard leaves that deploy's invocations out. The
audit tables stay append-only: the deploy's own rows are kept as history, never rewritten or deleted.
"""

from __future__ import annotations

import getpass
from datetime import datetime, timezone

from steward.config.context import Context
from steward.warehouse import Relation, Warehouse
from steward.warehouse.journal import DeployRecord

INVOCATIONS = "steward_invocations"
COMMAND = "steward"  # dbt invocations carry dbt's command (build, run, ...); a mark carries this
STATES = ("rolled_back", "rejected")
COLUMNS = ("invocation_id", "command", "project_name", "target_name", "tier", "adapter_type", "user_name",
           "git_branch", "git_sha", "deploy_id", "started_at", "finished_at", "status", "nodes", "errors",
           "test_failures", "warnings", "skipped")


def mark_withdrawn(context: Context, warehouse: Warehouse, record: DeployRecord, state: str, relations: int,
                   warnings: list[str]) -> None:
    """Append the mark for `record` to every steward_invocations table that holds its runs (the package puts it
    where the project's config says; the deploy's own rows say which). Idempotent. A failure costs a warning,
    never the rollback: the scorecard would only go on counting the deploy's results."""
    if state not in STATES:
        raise ValueError(f"not a withdrawn state: {state}")
    mark_id = f"{record.deploy_id}:{state}"
    try:
        for table in recording_tables(warehouse, record.deploy_id):
            if warehouse.scalar(f"select count(*) from {warehouse.qualified(table)} where invocation_id = "
                                f"{warehouse.param}", (mark_id,)):
                continue
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            values = (mark_id, COMMAND, context.project.name, context.project.target_name, record.tier,
                      context.project.adapter_type, getpass.getuser(), record.git_branch, record.git_sha,
                      record.deploy_id, now, now, state, relations, 0, 0, 0, 0)
            warehouse.execute(f"insert into {warehouse.qualified(table)} ({', '.join(COLUMNS)}) values "
                              f"({', '.join([warehouse.param] * len(COLUMNS))})", values)
    except Exception as exc:
        warnings.append(f"the quality scorecard still counts the test results of deploy {record.deploy_id}: its "
                        f"mark as {state} could not be written to {INVOCATIONS} ({' '.join(str(exc).split())})")


def recording_tables(warehouse: Warehouse, deploy_id: str) -> list[Relation]:
    """Every steward_invocations table of the target's database that recorded a run of the deploy."""
    schemas = warehouse.query(
        "select table_schema from information_schema.tables where table_name = "
        f"{warehouse.param} and table_catalog = current_database() order by 1", (INVOCATIONS,))
    tables = [Relation(str(schema), INVOCATIONS) for (schema,) in schemas]
    return [table for table in tables
            if warehouse.scalar(f"select count(*) from {warehouse.qualified(table)} where deploy_id = "
                                f"{warehouse.param} and command <> {warehouse.param}", (deploy_id, COMMAND))]

"""The in-place strategy: a rollback point of everything the deploy touches, dbt builds over prod, and on any
failure the point is restored in one transaction and verified."""

from __future__ import annotations

from dataclasses import replace

from steward import faults
from steward.dbt.invocation import DbtOutcome, environment_overlay
from steward.deploy.flow import (
    DeployResult,
    DeploySession,
    admit,
    build_args,
    conclude,
    forget_row_counts,
    report_after_failure,
    run_context,
)
from steward.deploy.restore import restore_deploy
from steward.errors import DbtFailed
from steward.warehouse import opened
from steward.warehouse.rollback import RollbackStore


def deploy_in_place(session: DeploySession) -> DeployResult:
    context, options, ledger, result = session.context, session.options, session.ledger, session.result
    schema = context.policy.rollback_schema
    manifest = session.parsed.manifest
    with opened(context.project.connection) as warehouse:
        record = admit(context, ledger, warehouse, session.record)
        store = RollbackStore(warehouse, schema)
        store.ensure()
        result.rollback_point = store.create(record.deploy_id, result.plan.relations)
        record = ledger.write(record.advanced("snapshotted"), warehouse)
        faults.reached("deploy.snapshotted", warehouse=warehouse)
        record = ledger.write(record.advanced("building"), warehouse)
    # The runner's connection is closed while dbt builds: DuckDB admits one writer.
    try:
        with environment_overlay(run_context(context, record)):
            outcome = session.invoker.invoke(["build"], build_args(options), manifest=manifest)
    except BaseException as interrupted:
        outcome = DbtOutcome(command="build", success=False, error=f"interrupted: {interrupted!r}")
    result.outcome = outcome
    session.lock.ensure_held()  # a connection dropped during the build takes the lock's session with it
    with opened(context.project.connection) as warehouse:
        store = RollbackStore(warehouse, schema)
        failure = outcome.failure
        if outcome.success:
            try:
                with warehouse.transaction():
                    store.recreate_missing_external_views(record.deploy_id)
            except Exception as exc:  # a consumer view no longer fits the new model
                outcome = replace(outcome, success=False)
                failure = f"a view outside the deploy could not be recreated: {' '.join(str(exc).split())}"
        if outcome.success:
            result.record = record
            return conclude(session, warehouse)
        record = ledger.write(record.advanced("failed", failure), warehouse)
        forget_row_counts(warehouse, manifest, record.deploy_id, result.warnings)
        if not options.auto_rollback:
            result.record = record
            raise DbtFailed(f"deploy {record.deploy_id} failed ({failure}); --no-rollback: left as built; "
                            f"rollback point kept; {report_after_failure(context, result, warehouse)}")
        result.record, result.restored, result.mismatches = restore_deploy(context, ledger, warehouse, record,
                                                                           result.warnings)
        report = report_after_failure(context, result, warehouse)
    raise DbtFailed(f"deploy {record.deploy_id} failed ({failure}); {result.record.detail}; {report}")

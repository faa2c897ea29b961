"""The one deploy flow every strategy shares: preflight, lock, one parse, plan and change gate; then the
strategy (in place, blue-green) takes the prepared `DeploySession` and ends through `conclude` on success.

The strategies import this module, never the other way round: `steward.deploy.deploy` hands the flow the
strategy to run. Every state is journalled before its step, so `steward recover` can finish the job after
the process is killed at any point.
"""

from __future__ import annotations

import getpass
import os
import secrets as token_source
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from steward import faults
from steward.changes import classify, state
from steward.config import validation
from steward.config.context import Context
from steward.config.policy import STRATEGIES
from steward.config.safety import branch_checks, confirm_prod, enforce
from steward.dbt.invocation import DbtInvoker, environment_overlay
from steward.dbt.plan import Plan, make_plan
from steward.deploy.ledger import Ledger, prune_points
from steward.deploy.reporting import write_reports
from steward.deploy.restore import interrupted, recoverable, restore_deploy
from steward.deploy.result import DeployOptions, DeployResult
from steward.errors import StewardError, StorageFailed
from steward.warehouse import Relation, Warehouse, opened, refuse_unsupported
from steward.warehouse.journal import DeployRecord, WarehouseJournal, timestamp
from steward.warehouse.lock import DeployLock, LockHolder


def new_deploy_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{token_source.token_hex(3)}"


def selection_args(options: DeployOptions) -> list[str]:
    args: list[str] = []
    if options.select:
        args += ["--select", options.select]
    if options.exclude:
        args += ["--exclude", options.exclude]
    if options.state:
        args += ["--state", str(options.state)]
    return args


def vars_args(options: DeployOptions) -> list[str]:
    return ["--vars", options.vars] if options.vars else []


def build_args(options: DeployOptions) -> list[str]:
    args = selection_args(options) + vars_args(options)
    if options.full_refresh:
        args.append("--full-refresh")
    if options.state:
        args.append("--defer")
    return args


def validate_options(options: DeployOptions) -> None:
    validation.selection(options.select, "--select")
    validation.selection(options.exclude, "--exclude")
    validation.cli_vars(options.vars)
    if options.override_reason is not None and not options.override_reason.strip():
        raise validation.BadInput("--override-safety: give the reason, e.g. --override-safety \"hotfix INC-123\"")
    if options.strategy is not None and options.strategy not in STRATEGIES:
        raise validation.BadInput(f"--strategy: must be one of {', '.join(STRATEGIES)}, got {options.strategy!r}")


def strategy_of(context: Context, options: DeployOptions) -> str:
    return options.strategy or context.policy.deploy_strategy


def new_record(context: Context, options: DeployOptions, plan: Plan | None, now: datetime) -> DeployRecord:
    git = context.environment.git
    record = DeployRecord(
        deploy_id=new_deploy_id(now), project=context.project.name, target=context.project.target_name,
        tier=context.tier, adapter=context.project.adapter_type, host=socket.gethostname(), pid=os.getpid(),
        user=getpass.getuser(), started_at=timestamp(now),
        keep_until=timestamp(now + context.policy.rollback_retention),
        git_branch=git.branch, git_sha=git.sha, selection=options.select, exclusion=options.exclude,
        full_refresh=options.full_refresh, auto_rollback=options.auto_rollback,
        override_reason=options.override_reason,
        relations=tuple(str(r) for r in plan.relations) if plan else (),
        strategy=strategy_of(context, options),
    )
    return record.advanced("planned")


def recording_switch(context: Context) -> dict[str, str]:
    """Switch the package's run recording on for a deploy's dbt invocations. Environment variables,
    not --vars: a change of --vars makes dbt re-parse the whole project, these only the few files
    that read them, and they stay the same from one deploy of a target to the next."""
    return {"STEWARD_RECORD_RUNS": "true", "STEWARD_TIER": context.tier}


def deploy_parse_state(context: Context) -> Path:
    """dbt's partial-parse state for a target's recorded deploys, kept apart from plain dbt runs':
    the recording switch changes what dbt parses, and sharing one state would make each re-parse
    after the other."""
    project = context.project
    return project.target_path / "steward" / "parse" / f"{project.target_name}.msgpack"


def run_context(context: Context, record: DeployRecord) -> dict[str, str]:
    """Who and what the recorded build belongs to. These change with every deploy, so they are set
    only for the build, which runs from the parse's manifest: the package reads them when the run
    ends. Set during the parse, they would make dbt re-parse the files reading them every time."""
    git = context.environment.git
    return {"STEWARD_DEPLOY_ID": record.deploy_id, "STEWARD_USER": record.user,
            "STEWARD_GIT_BRANCH": git.branch or "", "STEWARD_GIT_SHA": git.sha or ""}


@dataclass
class DeploySession:
    """What the flow hands a strategy, under the deploy lock: the deploy's one parse, its plan (in `result`),
    and its journal record, which the strategy advances from `planned`."""

    context: Context
    options: DeployOptions
    invoker: DbtInvoker
    ledger: Ledger
    record: DeployRecord
    parsed: state.ParsedProject
    result: DeployResult
    lock: DeployLock  # held throughout; `ensure_held` before touching the warehouse after a long dbt run


# A deploy strategy: builds and ships what the session planned, returns its result or raises a StewardError.
Strategy = Callable[[DeploySession], DeployResult]


def run(context: Context, options: DeployOptions, invoker: DbtInvoker, strategies: Mapping[str, Strategy],
        ask: Callable[[str], bool] = lambda question: False) -> DeployResult:
    """Run a guarded deploy with the strategy `strategies` names for it; raises a StewardError (see
    errors.EXIT_CODES) when it does not succeed."""
    options = changed_only(context, options)
    validate_options(options)
    refuse_unsupported(context.project.adapter_type, strategy_of(context, options))
    checks = branch_checks(context)
    warnings = enforce(checks, options.override_reason)
    now = datetime.now(timezone.utc)
    if options.dry_run:
        invoker.ensure_packages()
        plan = make_plan(invoker, selection_args(options))
        return DeployResult(record=new_record(context, options, plan, now), plan=plan, warnings=warnings,
                            checks=checks)
    confirm_prod(context, options.yes, ask)

    ledger = Ledger(context)
    schema = context.policy.rollback_schema
    try:
        record = ledger.write(new_record(context, options, None, now), None)
    except StorageFailed as failure:
        raise StorageFailed(f"{failure}; nothing was changed") from failure
    holder = LockHolder(record.deploy_id, record.host, record.pid, record.started_at,
                        timestamp(now + context.policy.lock_lease))
    # The lock comes before dbt parses anything, so a contender is turned away at once.
    with DeployLock(context.project, holder, schema) as lock, environment_overlay(recording_switch(context)), \
            recoverable(context, f"deploy {record.deploy_id}"):
        invoker.ensure_packages()
        # One parse serves the plan and the build.
        manifest = invoker.parse(vars_args(options), parse_state=deploy_parse_state(context))
        parsed = state.ParsedProject(manifest, state.capture(context.project), tuple(vars_args(options)))
        plan = make_plan(invoker, selection_args(options), manifest)
        warnings += classify.gate(context, invoker, shipped(options, plan), options.allow_breaking, parsed)
        record = replace(record, relations=tuple(str(r) for r in plan.relations))
        result = DeployResult(record=record, plan=plan, warnings=warnings, checks=checks)
        session = DeploySession(context, options, invoker, ledger, record, parsed, result, lock)
        try:
            return strategies[strategy_of(context, options)](session)
        except StorageFailed as failure:
            raise undo(session, failure) from failure


def conclude(session: DeploySession, warehouse: Warehouse, detail: str | None = None) -> DeployResult:
    """What every successful deploy does last, whatever its strategy, still under the lock: write the reports,
    journal the deploy as succeeded, keep the target's state of what it shipped, delete expired rollback points.

    The report comes before the `succeeded` record: until that record, a failure (a report that cannot be
    written, a kill) undoes the deploy; after it, the deploy stands and what follows can only warn."""
    context, result = session.context, session.result
    result.record = result.record.advanced("succeeded", detail)
    result.report_dir = write_reports(context, result, warehouse)
    session.ledger.write(result.record, warehouse)
    faults.reached("deploy.succeeded", warehouse=warehouse)
    built = shipped(session.options, result.plan)
    try:
        state.keep(context.project, built or (), whole_project=built is None, parsed=session.parsed.path)
    except OSError as exc:
        result.warnings.append(f"the target's state was not kept ({exc}); --changed-only and the breaking-change "
                               "gate compare with the state kept before")
    result.pruned = prune_expired(context, session.ledger, warehouse, result.record, result.warnings)
    return result


def report_after_failure(context: Context, result: DeployResult, warehouse: Warehouse) -> str:
    """Write a failed deploy's report and say where; when it cannot be written, say why instead of letting that
    hide the failure being reported."""
    try:
        result.report_dir = write_reports(context, result, warehouse)
    except StorageFailed as failure:
        return f"no report: {failure}"
    return f"report: {result.report_dir}"


def undo(session: DeploySession, failure: StorageFailed) -> StewardError:
    """The journal or the report could not be written before the deploy was journalled as succeeded: restore what
    it changed (journalled in the warehouse only, if the local journal is what failed) and say so. A restore that
    fails raises RollbackFailed (exit 5) instead."""
    context, ledger, deploy_id = session.context, session.ledger, session.record.deploy_id
    with opened(context.project.connection) as warehouse:
        record = ledger.records(warehouse).get(deploy_id)
        if record is None or not record.unfinished:
            return StorageFailed(f"{failure}; deploy {deploy_id} had changed nothing")
        if record.state != "failed":
            record = ledger.write(record.advanced("failed", str(failure)), warehouse)
        forget_row_counts(warehouse, session.parsed.manifest, deploy_id, session.result.warnings)
        result = session.result
        result.record, result.restored, result.mismatches = restore_deploy(context, ledger, warehouse, record,
                                                                           result.warnings)
        # A report written before the failure said succeeded: it now says what happened, where it can be written.
        report = report_after_failure(context, result, warehouse)
    return StorageFailed(f"{failure}; deploy {deploy_id} was undone: {result.record.detail}; {report}")


def prune_expired(context: Context, ledger: Ledger, warehouse: Warehouse, record: DeployRecord,
                  warnings: list[str]) -> tuple[str, ...]:
    """After a successful deploy, still holding the lock: delete the rollback points that outlived the
    policy's retention beyond its newest `keep`, so "kept until" means what it says and copies do not pile
    up until someone runs `steward prune`. A failure here costs nothing but a warning: the deploy stands."""
    cutoff = datetime.now(timezone.utc) - context.policy.rollback_retention
    try:
        pruned, _, _ = prune_points(ledger, warehouse, context.policy.rollback_keep, cutoff, spare=record.deploy_id)
    except Exception as exc:
        warnings.append(f"expired rollback points were not pruned ({' '.join(str(exc).split())}); "
                        f"run: steward prune --target {context.project.target_name}")
        return ()
    return tuple(pruned)


def forget_row_counts(warehouse: Warehouse, manifest: Any, deploy_id: str, warnings: list[str]) -> None:
    """Delete the row counts a failed deploy recorded. The run-end hook skips them when the build fails, but
    a deploy can fail after a clean build (an outside view that no longer fits, a publish that fails), and
    then its tables' counts never described the warehouse: volume_anomaly must not learn from them."""
    nodes = getattr(manifest, "nodes", None) or {}
    metrics, invocations = (nodes.get(f"model.steward.{name}") for name in ("steward_metrics", "steward_invocations"))
    if metrics is None or invocations is None:
        return  # recording was off
    tables = [Relation(str(node.schema), str(node.alias or node.name)) for node in (metrics, invocations)]
    try:
        if all(kind == "table" for kind in warehouse.relation_kinds(tables).values()):
            warehouse.execute(
                f"delete from {warehouse.qualified(tables[0])} where invocation_id in (select invocation_id "
                f"from {warehouse.qualified(tables[1])} where deploy_id = {warehouse.param})", (deploy_id,))
    except Exception as exc:
        warnings.append(f"the failed deploy's row counts stay in steward_metrics ({' '.join(str(exc).split())})")


def admit(context: Context, ledger: Ledger, warehouse: Warehouse, record: DeployRecord) -> DeployRecord:
    """Refuse while an earlier deploy is unfinished; otherwise journal the deploy as holding the lock."""
    WarehouseJournal(warehouse, context.policy.rollback_schema).ensure()
    unfinished = ledger.unfinished(warehouse, excluding=record.deploy_id)
    if unfinished:
        raise interrupted(context, unfinished[0])
    return ledger.write(record.advanced("locked"), warehouse)


def changed_only(context: Context, options: DeployOptions) -> DeployOptions:
    """--changed-only: select state:modified+ against the target's kept state, deferring to it."""
    if not options.changed_only:
        return options
    if options.select:
        raise validation.BadInput("--changed-only selects state:modified+ itself; drop --select")
    if state.kept_manifest(context.project) is None:
        raise validation.BadInput(f"--changed-only: target {context.project.target_name} has no kept state yet "
                                  f"({state.state_dir(context.project)}); deploy once without it")
    return replace(options, select="state:modified+", state=state.state_dir(context.project))


def shipped(options: DeployOptions, plan: Plan) -> list[str] | None:
    """The nodes a deploy ships; None when it ships the whole project (removals included)."""
    if not (options.select or options.exclude):
        return None
    return [node.unique_id for node in plan.nodes] + list(plan.tests)



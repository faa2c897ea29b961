"""A guarded deploy: preflight, lock, rollback point, build, and on failure a verified restore.

Every state is journalled before its step, so `steward recover` can finish the job after the
process is killed at any point.
"""

from __future__ import annotations

import getpass
import os
import secrets as token_source
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from steward import changes, state, validation
from steward.context import Context
from steward.errors import DbtFailed, RecoveryRequired, RollbackFailed
from steward.invocation import DbtInvoker, DbtOutcome, environment_overlay
from steward.journal import DeployRecord, LocalJournal, WarehouseJournal, merge
from steward.lock import DeployLock, LockHolder
from steward.plan import Plan, make_plan
from steward.policy import STRATEGIES
from steward.reports.for_deploy import write_reports
from steward.rollback import Mismatch, RollbackEntry, RollbackStore
from steward.safety import Check, branch_checks, confirm_prod, enforce
from steward.warehouse import Relation, Warehouse, opened


@dataclass(frozen=True)
class DeployOptions:
    select: str | None = None
    exclude: str | None = None
    vars: str | None = None
    full_refresh: bool = False
    dry_run: bool = False
    auto_rollback: bool = True
    yes: bool = False
    override_reason: str | None = None
    allow_breaking: bool = False
    changed_only: bool = False  # build state:modified+ of the kept state, deferring to it
    state: Path | None = None  # set from the target's kept state when changed_only
    strategy: str | None = None  # in-place or blue-green; None: the policy's deploy.strategy
    keep_stage: bool = False  # blue-green: keep the stage of a rejected deploy for inspection


@dataclass
class DeployResult:
    record: DeployRecord
    plan: Plan
    warnings: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    outcome: DbtOutcome | None = None
    rollback_point: list[RollbackEntry] = field(default_factory=list)
    restored: list[RollbackEntry] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    pruned: tuple[str, ...] = ()  # earlier deploys whose expired rollback points this deploy deleted
    report_dir: Path | None = None

    @property
    def deploy_id(self) -> str:
        return self.record.deploy_id

    @property
    def status(self) -> str:
        return self.record.state


class Ledger:
    """Writes each journal record locally first, then to the warehouse when one is open."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.local = LocalJournal(context.project.target_path / "steward" / "journal")

    def write(self, record: DeployRecord, warehouse: Warehouse | None) -> DeployRecord:
        self.local.write(record)
        if warehouse is not None:
            WarehouseJournal(warehouse, self.context.policy.rollback_schema).write(record)
        return record

    def records(self, warehouse: Warehouse | None) -> dict[str, DeployRecord]:
        remote = WarehouseJournal(warehouse, self.context.policy.rollback_schema).records() if warehouse else {}
        target = self.context.project.target_name
        return {key: record for key, record in merge(self.local.records(), remote).items() if record.target == target}

    def unfinished(self, warehouse: Warehouse | None, excluding: str | None = None) -> list[DeployRecord]:
        records = self.records(warehouse).values()
        return sorted((r for r in records if r.unfinished and r.deploy_id != excluding), key=lambda r: r.started_at)


def prune_points(ledger: Ledger, warehouse: Warehouse, keep: int, cutoff: datetime,
                 spare: str | None = None) -> tuple[list[str], int, list[str]]:
    """Delete the rollback points beyond the newest `keep` deploys that started before `cutoff`, never an
    unfinished deploy's nor `spare`'s; (deploys pruned, tables dropped, deploys kept). The caller holds
    the target's lock."""
    store = RollbackStore(warehouse, ledger.context.policy.rollback_schema)
    with_points = store.points()
    records = sorted((r for r in ledger.records(warehouse).values() if r.state != "planned"),
                     key=lambda r: r.started_at, reverse=True)
    pruned, dropped, kept = [], 0, [r.deploy_id for r in records[:keep]]
    for record in records[keep:]:
        if record.unfinished or record.deploy_id == spare or datetime.fromisoformat(record.started_at) > cutoff:
            kept.append(record.deploy_id)
        elif record.deploy_id in with_points:
            dropped += store.drop(record.deploy_id)
            pruned.append(record.deploy_id)
    return pruned, dropped, kept


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
        user=getpass.getuser(), started_at=now.isoformat(timespec="seconds"),
        keep_until=(now + context.policy.rollback_retention).isoformat(timespec="seconds"),
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


def recovery_command(context: Context) -> str:
    project = context.project
    return (f"steward recover --project-dir {project.project_dir} --profiles-dir {project.profiles_dir} "
            f"--target {project.target_name}")


def deploy(context: Context, options: DeployOptions, invoker: DbtInvoker,
           ask: Callable[[str], bool] = lambda question: False) -> DeployResult:
    """Run a guarded deploy; raises a StewardError (see errors.EXIT_CODES) when it does not succeed."""
    options = changed_only(context, options)
    validate_options(options)
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
    record = ledger.write(new_record(context, options, None, now), None)
    holder = LockHolder(record.deploy_id, record.host, record.pid, record.started_at,
                        (now + context.policy.lock_lease).isoformat(timespec="seconds"))
    blue_green = strategy_of(context, options) == "blue-green"
    # The lock comes before dbt parses anything, so a contender is turned away at once.
    with DeployLock(context.project, holder, schema), environment_overlay(recording_switch(context)):
        invoker.ensure_packages()
        # One parse serves the plan and the build.
        manifest = invoker.parse(vars_args(options), parse_state=deploy_parse_state(context))
        parsed = state.ParsedProject(manifest, state.capture(context.project), tuple(vars_args(options)))
        plan = make_plan(invoker, selection_args(options), manifest)
        warnings += changes.gate(context, invoker, shipped(options, plan), options.allow_breaking, parsed)
        record = replace(record, relations=tuple(str(r) for r in plan.relations))
        result = DeployResult(record=record, plan=plan, warnings=warnings, checks=checks)
        if blue_green:
            from steward import bluegreen

            return bluegreen.deploy(context, options, invoker, ledger, record, parsed, result)
        with opened(context.project.connection) as warehouse:
            record = admit(context, ledger, warehouse, record)
            store = RollbackStore(warehouse, schema)
            store.ensure()
            result.rollback_point = store.create(record.deploy_id, plan.relations)
            record = ledger.write(record.advanced("snapshotted"), warehouse)
            record = ledger.write(record.advanced("building"), warehouse)
        # The runner's connection is closed while dbt builds: DuckDB admits one writer.
        try:
            with environment_overlay(run_context(context, record)):
                outcome = invoker.invoke(["build"], build_args(options), manifest=manifest)
        except BaseException as interrupted:
            outcome = DbtOutcome(command="build", success=False, error=f"interrupted: {interrupted!r}")
        result.outcome = outcome
        with opened(context.project.connection) as warehouse:
            store = RollbackStore(warehouse, schema)
            failure = outcome.error or ", ".join(node.name for node in outcome.failed_nodes)
            if outcome.success:
                try:
                    with warehouse.transaction():
                        store.recreate_missing_external_views(record.deploy_id)
                except Exception as exc:  # a consumer view no longer fits the new model
                    outcome = replace(outcome, success=False)
                    failure = f"a view outside the deploy could not be recreated: {' '.join(str(exc).split())}"
            if outcome.success:
                result.record = ledger.write(record.advanced("succeeded"), warehouse)
                return conclude(context, ledger, warehouse, options, parsed, result)
            record = ledger.write(record.advanced("failed", failure), warehouse)
            forget_row_counts(warehouse, manifest, record.deploy_id, result.warnings)
            if not options.auto_rollback:
                result.record = record
                result.report_dir = write_reports(context, result, warehouse)
                raise DbtFailed(f"deploy {record.deploy_id} failed ({failure}); --no-rollback: left as built; "
                                f"rollback point kept; report: {result.report_dir}")
            result.record, result.restored, result.mismatches = restore_deploy(context, ledger, warehouse, record)
            result.report_dir = write_reports(context, result, warehouse)
    raise DbtFailed(f"deploy {record.deploy_id} failed ({failure}); restored {len(result.restored)} relation(s), "
                    f"counts, checksums, grants and comments verified; report: {result.report_dir}")


def conclude(context: Context, ledger: Ledger, warehouse: Warehouse, options: DeployOptions,
             parsed: state.ParsedProject, result: DeployResult) -> DeployResult:
    """What every successful deploy does last, in place or blue-green, still under the lock: keep the target's
    state of what it shipped, delete expired rollback points, write the reports."""
    built = shipped(options, result.plan)
    state.keep(context.project, built or (), whole_project=built is None, parsed=parsed.path)
    result.pruned = prune_expired(context, ledger, warehouse, result.record, result.warnings)
    result.report_dir = write_reports(context, result, warehouse)
    return result


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
        raise RecoveryRequired(
            f"deploy {unfinished[0].deploy_id} was interrupted in state {unfinished[0].state}; "
            f"run: {recovery_command(context)}")
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


def restore_deploy(context: Context, ledger: Ledger, warehouse: Warehouse,
             record: DeployRecord) -> tuple[DeployRecord, list[RollbackEntry], list[Mismatch]]:
    """Restore a deploy's rollback point in one transaction and verify it; RollbackFailed (exit 5) on any doubt."""
    store = RollbackStore(warehouse, context.policy.rollback_schema)
    try:
        restored = store.restore(record.deploy_id)
    except Exception as exc:
        record = ledger.write(record.advanced("rollback_failed", " ".join(str(exc).split())), warehouse)
        raise RollbackFailed(
            f"restoring deploy {record.deploy_id} failed and was undone ({' '.join(str(exc).split())}); "
            f"the rollback point is intact in schema {context.policy.rollback_schema}; "
            f"fix the cause, then run: {recovery_command(context)}") from exc
    entries = store.entries(record.deploy_id)
    mismatches = store.verify(entries)
    if mismatches:
        details = "; ".join(m.describe() for m in mismatches)
        record = ledger.write(record.advanced("rollback_failed", details), warehouse)
        raise RollbackFailed(
            f"deploy {record.deploy_id}: restored relations do not match the rollback point: {details}; "
            f"inspect with: steward deploys --json --target {context.project.target_name}; "
            f"then retry with: {recovery_command(context)}")
    detail = f"{len(restored)} relation(s) restored and verified" if restored else "already restored; verified"
    return ledger.write(record.advanced("rolled_back", detail), warehouse), restored, mismatches

"""A deploy: validate, build with dbt, and report."""

from __future__ import annotations

import secrets as token_source
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from steward import validation
from steward.context import Context
from steward.errors import DbtFailed
from steward.invocation import DbtInvoker, DbtOutcome
from steward.report import write_reports


@dataclass(frozen=True)
class DeployOptions:
    select: str | None = None
    exclude: str | None = None
    vars: str | None = None
    full_refresh: bool = False
    dry_run: bool = False


@dataclass
class DeployResult:
    deploy_id: str
    target: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: DbtOutcome | None = None
    report_dir: Path | None = None
    plan: list[str] = field(default_factory=list)


def new_deploy_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{token_source.token_hex(3)}"


def build_args(options: DeployOptions) -> list[str]:
    args: list[str] = []
    if options.select:
        args += ["--select", options.select]
    if options.exclude:
        args += ["--exclude", options.exclude]
    if options.vars:
        args += ["--vars", options.vars]
    if options.full_refresh:
        args.append("--full-refresh")
    return args


def validate_options(options: DeployOptions) -> None:
    validation.selection(options.select, "--select")
    validation.selection(options.exclude, "--exclude")
    validation.cli_vars(options.vars)


def deploy(context: Context, options: DeployOptions, invoker: DbtInvoker) -> DeployResult:
    validate_options(options)
    started = datetime.now(timezone.utc)
    result = DeployResult(
        deploy_id=new_deploy_id(started), target=context.project.target_name, status="planned", started_at=started
    )
    invoker.ensure_packages()
    if options.dry_run:
        result.plan = sorted(node["unique_id"] for node in invoker.list_nodes(build_args(options)))
        result.status = "dry-run"
        return result
    outcome = invoker.invoke(["build"], build_args(options))
    result.outcome = outcome
    result.status = "succeeded" if outcome.success else "failed"
    result.finished_at = datetime.now(timezone.utc)
    result.report_dir = write_reports(context, result)
    if not outcome.success:
        failed = ", ".join(node.name for node in outcome.failed_nodes) or outcome.error or "see dbt's output"
        raise DbtFailed(f"dbt build failed: {failed}; report: {result.report_dir}")
    return result

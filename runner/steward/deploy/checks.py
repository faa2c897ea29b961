"""`steward check`: every preflight check, each named with pass or fail; changes nothing."""

from __future__ import annotations

from dataclasses import replace

from steward.changes.classify import ChangeReport, change_check
from steward.changes.lint import changed_since_git_base, lint
from steward.config.context import Context
from steward.config.safety import Check, branch_checks
from steward.dbt.invocation import DbtInvoker
from steward.dbt.plan import make_plan
from steward.deploy.flow import selection_args, validate_options
from steward.deploy.ledger import Ledger
from steward.deploy.recovery import maintenance_lock
from steward.deploy.result import DeployOptions
from steward.errors import BadInput, DeployLocked, StewardError
from steward.warehouse import opened


def run_checks(context: Context, options: DeployOptions, invoker: DbtInvoker) -> list[Check]:
    checks = [
        Check("project and profile", True, f"{context.project.name}, target {context.project.target_name} "
                                           f"({context.project.adapter_type}, tier {context.tier})"),
        Check("policy", True, f"from {context.policy.source}"),
        Check("connection settings", True, "well-formed"),
    ]
    try:
        validate_options(options)
        plan = make_plan(invoker, selection_args(options))
        checks.append(Check("selection", True, f"{len(plan.nodes)} node(s) to build, {len(plan.tests)} test(s)"))
    except BadInput as error:
        checks.append(Check("selection", False, str(error), exit_code=2))
    checks += [replace(check, exit_code=3) for check in branch_checks(context)]
    change, report = change_check(context, invoker)
    checks += [change, lint_check(context, report)]
    try:
        with maintenance_lock(context, "check"):
            checks.append(Check("deploy lock", True, "free"))
            with opened(context.project.connection) as warehouse:
                warehouse.scalar("select 1")
                checks.append(Check("warehouse", True, "reachable"))
                unfinished = Ledger(context).unfinished(warehouse)
                checks.append(Check(
                    "no interrupted deploy", not unfinished,
                    f"deploy {unfinished[0].deploy_id} is in state {unfinished[0].state}; run steward recover"
                    if unfinished else "none", exit_code=6))
    except DeployLocked as error:
        checks.append(Check("deploy lock", False, str(error), exit_code=4))
    except StewardError as error:
        checks.append(Check("warehouse", False, str(error), exit_code=2))
    return checks


def lint_check(context: Context, report: ChangeReport | None) -> Check:
    """Lint the SQL files changed since the kept state, or else since the git merge base."""
    if report is not None and report.has_state:
        since, files = "the kept state", report.changed_files
    else:
        since, files = "the git merge base", changed_since_git_base(context)
        if files is None:
            return Check("lint", True, "skipped: no kept state and no git merge base to compare with",
                         blocking=False, exit_code=1)
    files = [path for path in files if (context.project.project_dir / path).is_file()]
    if not files:
        return Check("lint", True, f"no SQL file changed since {since}", exit_code=1)
    try:
        violations = lint(context, files)
    except BadInput as error:
        return Check("lint", False, str(error), exit_code=2)
    if not violations:
        return Check("lint", True, f"{len(files)} changed file(s) since {since} are clean", exit_code=1)
    shown = "; ".join(v.describe() for v in violations[:10])
    more = f"; and {len(violations) - 10} more" if len(violations) > 10 else ""
    return Check("lint", False, f"{len(violations)} violation(s) in files changed since {since}: {shown}{more}",
                 exit_code=1)

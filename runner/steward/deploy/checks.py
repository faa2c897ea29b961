"""`steward check`: every preflight check, each named with pass or fail; changes nothing."""

from __future__ import annotations

from dataclasses import replace

from steward.changes.classify import ChangeReport, change_check
from steward.changes.lint import ChangedLines, changed_lines, changed_since_git_base, lint, on_changed_lines
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

# When several checks fail, `steward check` exits with the code of the failure that stops a deploy earliest:
# bad input or configuration (2) before the safety rules (3: branch, clean tree, breaking change), then
# another deploy's lock (4) and an interrupted deploy (6); lint (1) only when nothing else fails, because a
# deploy does not lint. So the code says first whether the deploy would go ahead.
EXIT_PRECEDENCE = (2, 3, 4, 6, 1)


def failed(checks: list[Check]) -> list[Check]:
    """The blocking checks that failed, in the order their exit codes take precedence (see EXIT_PRECEDENCE)."""
    rank = {code: index for index, code in enumerate(EXIT_PRECEDENCE)}
    return sorted((c for c in checks if c.blocking and not c.passed), key=lambda c: rank.get(c.exit_code, 0))


def exit_code(checks: list[Check]) -> int:
    """What `steward check` exits with: 0, or the code of the failed check that takes precedence."""
    failures = failed(checks)
    return failures[0].exit_code if failures else 0


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
    """Lint the SQL files changed since the kept state, or else since the git merge base, and judge the lines
    that changed: what was already wrong on untouched lines is not this change's doing (`steward lint`
    shows everything)."""
    directory = context.project.project_dir
    if report is not None and report.has_state:
        since = "the kept state"
        changed: ChangedLines = {
            path: changed_lines(report.baselines[path], (directory / path).read_text())
            if path in report.baselines else None
            for path in report.changed_files if (directory / path).is_file()}
    else:
        since, found = "the git merge base", changed_since_git_base(directory)
        if found is None:
            return Check("lint", True, "skipped: no kept state and no git merge base to compare with",
                         blocking=False, exit_code=1)
        changed = found
    files = [path for path, lines in changed.items() if lines is None or lines]
    if not files:
        return Check("lint", True, f"no SQL line changed since {since}", exit_code=1)
    try:
        everything = lint(context, files)
    except BadInput as error:
        return Check("lint", False, str(error), exit_code=2)
    violations = on_changed_lines(everything, changed)
    untouched = len(everything) - len(violations)
    left = f" ({untouched} on unchanged lines, not counted: see steward lint)" if untouched else ""
    if not violations:
        return Check("lint", True, f"the lines changed since {since} in {len(files)} file(s) are clean{left}",
                     exit_code=1)
    shown = "; ".join(v.describe() for v in violations[:10])
    more = f"; and {len(violations) - 10} more" if len(violations) > 10 else ""
    return Check("lint", False, f"{len(violations)} violation(s) on lines changed since {since}: {shown}{more}{left}",
                 exit_code=1)

"""`steward check`: every preflight check, each named with pass or fail; changes nothing."""

from __future__ import annotations

from dataclasses import replace

from steward.context import Context
from steward.deploy import DeployOptions, Ledger, selection_args, validate_options
from steward.errors import BadInput, DeployLocked, StewardError
from steward.invocation import DbtInvoker
from steward.plan import make_plan
from steward.recovery import maintenance_lock
from steward.safety import Check, branch_checks
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

"""Guarded deploys and what follows them: the deploy flow and its strategies (in place, blue-green), restore,
rollback and recovery, backfills, `steward check`, and what a deploy writes as its report.

`deploy()` is the entry point for the CLI and for orchestrators; it names the strategies the flow may run.
"""

from __future__ import annotations

from collections.abc import Callable

from steward.config.context import Context
from steward.dbt.invocation import DbtInvoker
from steward.deploy.blue_green import deploy_blue_green
from steward.deploy.flow import DeployOptions, DeployResult, Strategy, run
from steward.deploy.in_place import deploy_in_place

STRATEGIES: dict[str, Strategy] = {"in-place": deploy_in_place, "blue-green": deploy_blue_green}


def deploy(context: Context, options: DeployOptions, invoker: DbtInvoker,
           ask: Callable[[str], bool] = lambda question: False) -> DeployResult:
    """Run a guarded deploy; raises a StewardError (see errors.EXIT_CODES) when it does not succeed."""
    return run(context, options, invoker, STRATEGIES, ask)


__all__ = ["STRATEGIES", "DeployOptions", "DeployResult", "deploy"]

"""Branch and working-tree rules per tier, and the prod confirmation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from steward.config.context import Context
from steward.config.environment import branch_matches
from steward.errors import SafetyRefused


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    blocking: bool = True  # a failed non-blocking check is a warning
    exit_code: int = 3  # what a failure of this check exits with (see errors.EXIT_CODES)


def branch_checks(context: Context) -> list[Check]:
    policy, git = context.policy, context.environment.git
    if context.tier == "prod":
        allowed = ", ".join(policy.prod_allowed_branches)
        unknown = "unknown (not a git checkout, and no CI provider's variables name the branch and commit)"
        from_ci = f" (from {git.source}'s variables: no .git)" if git.source not in (None, "git") else ""
        checks = [Check(
            "prod branch",
            branch_matches(git.branch, policy.prod_allowed_branches),
            f"branch {git.branch + from_ci if git.branch else unknown}; prod deploys run from {allowed}",
        )]
        if policy.prod_require_clean_tree:
            clean = git.dirty is False
            state = {True: "has uncommitted changes", False: "is clean", None: f"is {unknown}"}
            if from_ci:
                state[False] = f"is {git.source}'s checkout of commit {(git.sha or '')[:12]}{from_ci}"
            checks.append(Check("clean working tree", clean, f"working tree {state[git.dirty]}"))
        return checks
    if context.tier == "dev" and branch_matches(git.branch, policy.dev_protected_branches):
        return [Check("dev branch", False,
                      f"deploying to a dev target from {git.branch}; consider `git switch -c feature/<name>`",
                      blocking=False)]
    return []


def enforce(checks: list[Check], override_reason: str | None) -> list[str]:
    """Raise SafetyRefused for failed blocking checks unless overridden; return warnings to show."""
    refused = [check for check in checks if check.blocking and not check.passed]
    warnings = [check.detail for check in checks if not check.blocking and not check.passed]
    if refused and not override_reason:
        reasons = "; ".join(f"{check.name}: {check.detail}" for check in refused)
        raise SafetyRefused(f"refused: {reasons} (--override-safety \"reason\" to proceed anyway)")
    warnings += [f"safety override ({override_reason}): {check.name}: {check.detail}" for check in refused]
    return warnings


def confirm_prod(context: Context, yes: bool, ask: Callable[[str], bool]) -> None:
    """Prod needs a yes: --yes, a non-interactive CI run, or an answer at the terminal."""
    if context.tier != "prod" or not context.policy.prod_require_confirmation or yes:
        return
    if context.environment.in_ci and not context.environment.interactive:
        return
    if not context.environment.interactive:
        raise SafetyRefused("refused: a prod deploy needs confirmation; pass --yes when no one can answer a prompt")
    if not ask(f"Deploy {context.project.name} to {context.project.target_name} (prod)?"):
        raise SafetyRefused("refused: prod deploy not confirmed")

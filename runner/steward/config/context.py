"""Everything a command needs to know before it acts: project, target, tier, policy, and where it runs."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from steward import __version__
from steward.config import validation
from steward.config.environment import RunEnvironment, detect_environment
from steward.config.policy import Policy, load_policy
from steward.config.project import Project, load_project
from steward.redact import redact_mapping


@dataclass(frozen=True)
class Context:
    project: Project
    policy: Policy
    environment: RunEnvironment

    @property
    def tier(self) -> str:
        return self.policy.tier_of(self.project.target_name)


def open_context(
    project_dir: Path | None = None,
    profiles_dir: Path | None = None,
    target: str | None = None,
    cli_vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    stdin_is_tty: bool | None = None,
) -> Context:
    """Load and validate the project, profile and policy; touches no warehouse."""
    env = os.environ if env is None else env
    if target is not None:
        validation.target_name(target)
    project = load_project(project_dir, profiles_dir, target, cli_vars, env)
    validation.connection(project.adapter_type, project.connection.settings, project.target_name)
    policy = load_policy(project.project_dir)
    tty = sys.stdin.isatty() if stdin_is_tty is None else stdin_is_tty
    return Context(project=project, policy=policy, environment=detect_environment(project.project_dir, env, tty))


def describe(context: Context) -> dict[str, Any]:
    """What `steward env` reports; secrets are masked."""
    project, run_env = context.project, context.environment
    return {
        "steward_version": __version__,
        "dbt_version": version("dbt-core"),
        "project": project.name,
        "project_dir": str(project.project_dir),
        "profiles_dir": str(project.profiles_dir),
        "profile": project.profile_name,
        "adapter": project.adapter_type,
        "adapter_version": _adapter_version(project.adapter_type),
        "target": project.target_name,
        "tier": context.tier,
        "connection": redact_mapping(_connection_summary(project)),
        "ci_provider": run_env.ci_provider,
        "interactive": run_env.interactive,
        "git": {
            "branch": run_env.git.branch,
            "sha": run_env.git.sha,
            "dirty": run_env.git.dirty,
            "source": run_env.git.source,
        },
        "policy": context.policy.describe(),
    }


def _connection_summary(project: Project) -> dict[str, Any]:
    wanted = ("path", "host", "port", "user", "database", "schema", "password", "dsn")
    return {key: project.connection.settings[key] for key in wanted if key in project.connection.settings}


def _adapter_version(adapter_type: str) -> str | None:
    try:
        return version(f"dbt-{adapter_type}")
    except Exception:  # an adapter installed under another distribution name
        return None

"""Where a run happens: CI provider, git state, and the target's tier."""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Checked in order; the generic CI=true comes last so a named provider wins.
_CI_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("GITHUB_ACTIONS", "GitHub Actions"),
    ("GITLAB_CI", "GitLab CI"),
    ("BUILDKITE", "Buildkite"),
    ("CIRCLECI", "CircleCI"),
    ("JENKINS_URL", "Jenkins"),
    ("AIRFLOW_CTX_DAG_ID", "Airflow"),
)
_TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class GitState:
    branch: str | None
    sha: str | None
    dirty: bool | None

    @property
    def available(self) -> bool:
        return self.sha is not None


@dataclass(frozen=True)
class RunEnvironment:
    ci_provider: str | None
    interactive: bool
    git: GitState

    @property
    def in_ci(self) -> bool:
        return self.ci_provider is not None


def detect_ci(env: Mapping[str, str]) -> str | None:
    for variable, provider in _CI_PROVIDERS:
        if env.get(variable):
            return provider
    if env.get("CI", "").lower() in _TRUTHY:
        return "generic CI"
    return None


def git_branch_from_ci(env: Mapping[str, str]) -> str | None:
    """CI checkouts are often detached; providers name the branch in their own variables."""
    for variable in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BUILDKITE_BRANCH",
                     "CIRCLE_BRANCH", "BRANCH_NAME", "GIT_BRANCH"):
        if env.get(variable):
            return env[variable].removeprefix("origin/")
    return None


def detect_git(directory: Path, env: Mapping[str, str]) -> GitState:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if sha is None:
        return GitState(branch=git_branch_from_ci(env), sha=None, dirty=None)
    branch = git("symbolic-ref", "--short", "-q", "HEAD") or git_branch_from_ci(env)
    status = git("status", "--porcelain", "--untracked-files=no")
    return GitState(branch=branch, sha=sha, dirty=None if status is None else bool(status))


def detect_environment(directory: Path, env: Mapping[str, str], stdin_is_tty: bool) -> RunEnvironment:
    ci = detect_ci(env)
    return RunEnvironment(ci_provider=ci, interactive=stdin_is_tty and ci is None, git=detect_git(directory, env))


def branch_matches(branch: str | None, patterns: Sequence[str]) -> bool:
    return branch is not None and any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)

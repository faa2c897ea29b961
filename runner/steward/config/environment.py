"""Where a run happens: CI provider, git state, and the target's tier."""

from __future__ import annotations

import fnmatch
import re
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
# Where each provider names the branch and the commit it checked out: read when the tree has no .git (an
# exported archive, a CI runner that fetches a tarball), so prod deploys from CI need no git checkout.
_CI_CHECKOUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "GitHub Actions": (("GITHUB_HEAD_REF", "GITHUB_REF_NAME"), "GITHUB_SHA"),
    "GitLab CI": (("CI_COMMIT_REF_NAME",), "CI_COMMIT_SHA"),
    "Buildkite": (("BUILDKITE_BRANCH",), "BUILDKITE_COMMIT"),
    "CircleCI": (("CIRCLE_BRANCH",), "CIRCLE_SHA1"),
    "Jenkins": (("BRANCH_NAME", "GIT_BRANCH"), "GIT_COMMIT"),
}
_COMMIT = re.compile(r"[0-9a-f]{7,64}")


@dataclass(frozen=True)
class GitState:
    branch: str | None
    sha: str | None
    dirty: bool | None
    source: str | None = None  # "git", or the CI provider whose variables named branch and commit

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


def git_from_ci(env: Mapping[str, str]) -> GitState | None:
    """Branch and commit as the detected CI provider names them, for a tree without .git; None unless it names
    both. Such a tree counts as clean: it is the provider's checkout of that commit, with nothing to diff."""
    provider = detect_ci(env)
    if provider not in _CI_CHECKOUTS:
        return None
    branch_variables, sha_variable = _CI_CHECKOUTS[provider]
    branch = next((env[name].removeprefix("origin/") for name in branch_variables if env.get(name)), None)
    sha = (env.get(sha_variable) or "").strip().lower()
    if not branch or not _COMMIT.fullmatch(sha):
        return None
    return GitState(branch=branch, sha=sha, dirty=False, source=provider)


def detect_git(directory: Path, env: Mapping[str, str]) -> GitState:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if sha is None:
        return git_from_ci(env) or GitState(branch=git_branch_from_ci(env), sha=None, dirty=None)
    branch = git("symbolic-ref", "--short", "-q", "HEAD") or git_branch_from_ci(env)
    status = git("status", "--porcelain", "--untracked-files=no")
    return GitState(branch=branch, sha=sha, dirty=None if status is None else bool(status), source="git")


def detect_environment(directory: Path, env: Mapping[str, str], stdin_is_tty: bool) -> RunEnvironment:
    ci = detect_ci(env)
    return RunEnvironment(ci_provider=ci, interactive=stdin_is_tty and ci is None, git=detect_git(directory, env))


def branch_matches(branch: str | None, patterns: Sequence[str]) -> bool:
    return branch is not None and any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)

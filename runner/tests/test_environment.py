"""Where a run happens: CI providers, git state in a real repository, and secret masking."""

from __future__ import annotations

import pytest
from harness import git

from steward.config.environment import branch_matches, detect_ci, detect_git
from steward.redact import redact_mapping, redact_text


@pytest.mark.parametrize(("env", "provider"), [
    ({"GITHUB_ACTIONS": "true", "CI": "true"}, "GitHub Actions"),
    ({"GITLAB_CI": "true", "CI": "true"}, "GitLab CI"),
    ({"BUILDKITE": "true"}, "Buildkite"),
    ({"CIRCLECI": "true", "CI": "true"}, "CircleCI"),
    ({"JENKINS_URL": "https://ci.example/"}, "Jenkins"),
    ({"AIRFLOW_CTX_DAG_ID": "nightly"}, "Airflow"),
    ({"CI": "true"}, "generic CI"),
    ({"CI": "false"}, None),
    ({}, None),
])
def test_ci_provider_detection(env, provider):
    assert detect_ci(env) == provider


def test_git_state_of_a_real_repository(tmp_path):
    assert detect_git(tmp_path, {}).sha is None
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "a.sql").write_text("select 1")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "init")
    state = detect_git(tmp_path, {})
    assert (state.branch, state.dirty, len(state.sha)) == ("main", False, 40)
    (tmp_path / "a.sql").write_text("select 2")
    assert detect_git(tmp_path, {}).dirty is True
    git(tmp_path, "checkout", "-q", "--detach")
    assert detect_git(tmp_path, {"GITHUB_REF_NAME": "release/1.2"}).branch == "release/1.2"


def test_branch_patterns():
    patterns = ("main", "release/*")
    assert branch_matches("release/2024.1", patterns)
    assert branch_matches("main", patterns)
    assert not branch_matches("feature/main", patterns)
    assert not branch_matches(None, patterns)


def test_secrets_are_masked_in_mappings_and_text():
    masked = redact_mapping({"user": "u", "password": "hunter22", "nested": {"api_key": "k-123", "port": 1},
                             "dsn": "postgresql://u:hunter22@db:5432/x"})
    assert masked == {"user": "u", "password": "****", "nested": {"api_key": "****", "port": 1},
                      "dsn": "postgresql://u:****@db:5432/x"}
    text = "connect failed: postgres://admin:pa55word@db/x password=pa55word token 's3cr3t'"
    cleaned = redact_text(text, secrets=["s3cr3t"])
    assert "pa55word" not in cleaned and "s3cr3t" not in cleaned


CI_CHECKOUT = {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main",
               "GITHUB_SHA": "9fceb02d0ae598e95dc970b74767f19372d61af8"}


@pytest.mark.parametrize(("env", "expected"), [
    (CI_CHECKOUT, ("main", CI_CHECKOUT["GITHUB_SHA"], False, "GitHub Actions")),
    ({"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "release/2.0", "CI_COMMIT_SHA": "ABCDEF1234567"},
     ("release/2.0", "abcdef1234567", False, "GitLab CI")),
    ({"JENKINS_URL": "https://ci/", "GIT_BRANCH": "origin/main", "GIT_COMMIT": "0123abcd"},
     ("main", "0123abcd", False, "Jenkins")),
    # A provider that names no commit, a commit that is not one, no provider: git state stays unknown.
    ({"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main"}, ("main", None, None, None)),
    ({"BUILDKITE": "true", "BUILDKITE_BRANCH": "main", "BUILDKITE_COMMIT": "HEAD"}, ("main", None, None, None)),
    ({"GITHUB_REF_NAME": "main", "GITHUB_SHA": CI_CHECKOUT["GITHUB_SHA"]}, ("main", None, None, None)),
    ({}, (None, None, None, None)),
])
def test_a_tree_without_git_takes_branch_and_commit_from_the_ci_provider(tmp_path, env, expected):
    state = detect_git(tmp_path, env)
    assert (state.branch, state.sha, state.dirty, state.source) == expected

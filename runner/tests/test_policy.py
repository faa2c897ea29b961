"""steward.yml: defaults without it, validated on load with errors naming file, key and what is allowed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from steward.config.policy import load_policy
from steward.errors import BadInput


def test_defaults_without_a_policy_file(tmp_path):
    policy = load_policy(tmp_path)
    assert policy.source == "defaults"
    assert [policy.tier_of(t) for t in ("prod", "PRD", "production")] == ["prod"] * 3
    assert [policy.tier_of(t) for t in ("staging", "stg", "uat", "qa")] == ["staging"] * 4
    assert [policy.tier_of(t) for t in ("dev", "ci", "prod_copy")] == ["dev"] * 3
    assert policy.prod_allowed_branches == ("main", "master", "release/*")
    # `steward env` spells durations as the README and steward.yml do: 7d, not 1w.
    described = policy.describe()
    assert (described["rollback_retention"], described["lock_lease"]) == ("7d", "15m")


def test_durations_are_shown_in_days_hours_minutes_or_seconds(tmp_path):
    (tmp_path / "steward.yml").write_text("rollback: {retention: 2w}\nlock: {lease: 90s}\n")
    described = load_policy(tmp_path).describe()
    assert (described["rollback_retention"], described["lock_lease"]) == ("14d", "90s")
    # Written in words, they read and print the same.
    (tmp_path / "steward.yml").write_text("rollback: {retention: 2 Weeks}\nlock: {lease: 90 seconds}\n")
    described = load_policy(tmp_path).describe()
    assert (described["rollback_retention"], described["lock_lease"]) == ("14d", "90s")


def test_a_full_policy_file_is_read(tmp_path):
    (tmp_path / "steward.yml").write_text(
        "version: 1\n"
        "tiers: {prod: [live], staging: [preprod]}\n"
        "prod: {allowed_branches: [trunk], require_clean_tree: false}\n"
        "rollback: {schema: keep_here, keep: 3, retention: 36h}\n"
        "lock: {lease: 5m}\n"
        "deploy: {strategy: blue-green}\n"
        "schedule: '30 2 * * *'\n"
    )
    policy = load_policy(tmp_path)
    assert policy.tier_of("live") == "prod" and policy.tier_of("prod") == "dev"
    assert policy.tier_of("preprod") == "staging"
    assert policy.prod_allowed_branches == ("trunk",)
    assert policy.prod_require_clean_tree is False
    assert (policy.rollback_schema, policy.rollback_keep) == ("keep_here", 3)
    assert policy.rollback_retention == timedelta(hours=36)
    assert policy.lock_lease == timedelta(minutes=5)
    assert policy.deploy_strategy == "blue-green"
    assert policy.describe()["rollback_retention"] == "36h"


@pytest.mark.parametrize(("content", "message"), [
    ("rollbak: {keep: 2}\n", "unknown key 'rollbak' (allowed: version, tiers"),
    ("rollback: {kept: 2}\n", "rollback.kept: unknown key (allowed: schema, keep, retention)"),
    ("rollback: {keep: 0}\n", "rollback.keep: must be a whole number of at least 1"),
    ("rollback: {schema: 'a; drop'}\n", "rollback.schema: 'a; drop' is not a valid identifier"),
    ("rollback: {retention: forever}\n", "rollback.retention: 'forever' is not a duration"),
    ("rollback: {retention: 36501 days}\n", "rollback.retention: '36501 days' is not a duration (a whole number "
     "above zero and a unit, at most 100 years: 90s, 30m, 6h, 3d, 2w or '2 days')"),
    ("prod: {require_clean_tree: 'no'}\n", "prod.require_clean_tree: must be true or false"),
    ("deploy: {strategy: yolo}\n", "deploy.strategy: must be one of in-place, blue-green"),
    ("schedule: 'at dawn'\n", "schedule: 'at dawn' is not a valid cron expression"),
    ("version: 2\n", "version: must be 1"),
    ("prod: [main]\n", "prod: must be a mapping"),
    ("prod: {allowed_branches: [main\n", "not valid YAML"),
])
def test_invalid_policy_names_file_key_and_allowed(tmp_path, content, message):
    (tmp_path / "steward.yml").write_text(content)
    with pytest.raises(BadInput) as raised:
        load_policy(tmp_path)
    assert str(tmp_path / "steward.yml") in str(raised.value)
    assert message in str(raised.value)

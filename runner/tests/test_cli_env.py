"""The CLI skeleton against examples/shop: --version, --help, env, and clear errors for a missing project."""

from __future__ import annotations

import json
import subprocess
import sys

from harness import SENTINEL_PASSWORD

from steward import __version__


def run_cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "steward", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_version_and_help():
    version = run_cli("--version")
    assert version.returncode == 0
    assert __version__ in version.stdout
    helped = run_cli("--help")
    assert helped.returncode == 0
    for command in ("env", "deploy"):
        assert command in helped.stdout


def test_env_reports_the_project_target_and_tier(shop_project):
    done = shop_project.cli("env", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["project"] == "shop"
    assert data["adapter"] == shop_project.adapter
    assert data["target"] == "ci"
    assert data["tier"] == "dev"
    assert data["policy"]["source"] == str(shop_project.directory / "steward.yml")
    assert data["policy"]["rollback_schema"] == shop_project.warehouse.schema_prefix + "_steward_rollback"
    assert data["dbt_version"].startswith("1.")


def test_env_never_shows_the_password(shop_project):
    for args in (("env",), ("env", "--json")):
        done = shop_project.cli(*args)
        assert done.returncode == 0, done.stderr
        assert SENTINEL_PASSWORD not in done.stdout + done.stderr
    if shop_project.adapter == "postgres":
        assert json.loads(shop_project.cli("env", "--json").stdout)["connection"]["password"] == "****"


def test_env_honours_dbt_project_dir_and_profiles_dir(shop_project, tmp_path):
    import os

    env = {**os.environ, "DBT_PROJECT_DIR": str(shop_project.directory),
           "DBT_PROFILES_DIR": str(shop_project.directory)}
    done = run_cli("env", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["project_dir"] == str(shop_project.directory)


def test_missing_project_is_one_line_and_exit_2(tmp_path):
    done = run_cli("env", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "no dbt_project.yml" in done.stderr


def test_missing_profile_is_one_line_and_exit_2(shop_project, tmp_path):
    done = run_cli("env", "--project-dir", str(shop_project.directory), "--profiles-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "no profiles.yml" in done.stderr


def test_unknown_target_names_the_known_ones(shop_project):
    done = shop_project.cli("env", "--target", "nope")
    assert done.returncode == 2
    assert "'nope' is not a target" in done.stderr and "ci" in done.stderr

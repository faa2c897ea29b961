"""Fixtures shared by the suite; see harness.py for how projects are isolated."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ADAPTERS, REPO_ROOT, DbtProject, make_project, postgres_unavailable_reason

os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
os.environ["DBT_VERSION_CHECK"] = "False"

# The Spark suite (runner/tests/spark/) starts a JVM and needs dbt-spark and Java: `make test-spark` runs it.
collect_ignore = [] if os.environ.get("STEWARD_SPARK_TESTS") == "1" else ["spark"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (--dist loadgroup), keep each adapter's tests on one worker, so every
    integration project is still built once per adapter and the two adapters run side by side."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "adapter" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(callspec.params["adapter"]))


@pytest.fixture(scope="session")
def session_prefix() -> str:
    """Schemas of this pytest session start with it, so parallel sessions never collide."""
    return f"stw_{secrets.token_hex(4)}"


@pytest.fixture(scope="session", params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        reason = postgres_unavailable_reason()
        if reason:
            if os.environ.get("STEWARD_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"{reason} (STEWARD_REQUIRE_POSTGRES=1)")
            pytest.skip(reason)
    return request.param


@pytest.fixture(scope="session")
def project_factory(tmp_path_factory: pytest.TempPathFactory, session_prefix: str) -> Iterator:
    """Makes isolated project copies; drops every Postgres schema they created at session end."""
    made: list[DbtProject] = []

    def make(source: str, adapter: str, profile_name: str, label: str | None = None) -> DbtProject:
        destination = tmp_path_factory.mktemp(f"{label or Path(source).name}_{adapter}")
        project = make_project(REPO_ROOT / source, destination, adapter, session_prefix, profile_name)
        made.append(project)
        return project

    yield make
    for project in made:
        project.warehouse.drop_all()


@pytest.fixture(scope="session")
def integration_project(adapter: str, project_factory) -> DbtProject:
    """integration_tests/, built once per adapter per session."""
    project = project_factory("integration_tests", adapter, "steward_integration_tests")
    project.dbt("deps")
    project.build_result = project.dbt("build", expect_success=None)
    # Later commands overwrite run_results.json; keep the build's invocation id for the audit tests.
    target = project.directory / "target"
    project.build_invocation_id = json.loads((target / "run_results.json").read_text())["metadata"]["invocation_id"]
    project.build_manifest = json.loads((target / "manifest.json").read_text())
    # Tests later re-run some incrementals; the audit tests compare against the counts the build left.
    project.build_row_counts = {
        result.node.name: project.warehouse.scalar(f"select count(*) from {result.node.relation_name}")
        for result in project.build_result.result.results
        if result.node.resource_type in ("model", "seed", "snapshot")
        and result.node.config.materialized not in ("view", "ephemeral")
        and "steward_observability" not in result.node.config.tags
    }
    return project


@pytest.fixture(scope="session")
def shop_project(adapter: str, project_factory) -> DbtProject:
    """examples/shop with its package installed; not built (commands under test build it)."""
    project = project_factory("examples/shop", adapter, "shop")
    project.dbt("deps")
    return project

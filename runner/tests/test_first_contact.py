"""A newcomer's first contact, on a project steward did not write (runner/tests/fixtures/adopter): no
.sqlfluff, lint violations nobody fixed, tests in yml on columns, seeds, a snapshot, an scd2 model, the
package installed with nothing configured, and no git checkout (the harness copies it).

The session fixture takes it once per adapter through what a new user does, and keeps what each step
printed: plain dbt runs, a prod deploy from CI, a breaking change that `steward check` and a prod deploy
refuse, the printed migration followed as it is (it fails on the stale tests and is rolled back), then
again with the tests updated. The CLI runs in-process (`project.cli`).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from steward.changes.lint import changed_lines, changed_since_git_base, dialect_for
from steward.config.safety import Check
from steward.deploy.checks import exit_code, failed

FIXTURE = "runner/tests/fixtures/adopter"
# A GitHub Actions job on main that fetched the tree without .git.
CI = {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main", "GITHUB_SHA": "9fceb02d0ae598e95dc970b74767f19372d61af8"}
# No CI at all, whatever the machine running the tests sets.
NO_CI = {name: None for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "JENKINS_URL",
                                 "AIRFLOW_CTX_DAG_ID", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_SHA")}
NOTICE = "steward: the package adds "
STALE_TESTS = ("not_null_orders_discount_amount, steward_accepted_range_orders_discount_amount__0 "
               "(models/marts/_marts.yml); discount_below_amount (tests/discount_below_amount.sql)")
# The breaking change: discount_amount leaves orders, in each adapter's own SQL (DuckDB's `exclude`, the
# `similar to` sqlfluff's ansi cannot parse), with one new lint violation (the upper-case FROM).
CHANGED_TAIL = """{% if target.type == 'duckdb' -%}
    select * exclude (discount_amount)
{%- else -%}
    select
        order_id,
        customer_id,
        ordered_at,
        status,
        amount,
        net_amount
{%- endif %}
FROM final
where status similar to '(placed|shipped|completed|returned)'
"""


@dataclass
class Journey:
    project: Any
    notices: dict[str, list[str]] = field(default_factory=dict)  # steward's log lines of plain dbt runs
    kept: dict[str, list[str]] = field(default_factory=dict)  # steward's nodes left with switches off
    steps: dict[str, Any] = field(default_factory=dict)  # CLI results by step
    scores: dict[str, tuple] = field(default_factory=dict)  # the scorecard's project row after each deploy
    catalogs: dict[str, Any] = field(default_factory=dict)

    def deploy_id(self, step: str) -> str:
        return re.search(r"error: deploy (\S+) failed", self.steps[step].stderr).group(1)


def dbt_logs(project, *args: str) -> list[str]:
    """Run dbt in-process; the lines steward's macros logged."""
    from dbt.cli.main import dbtRunner

    lines: list[str] = []
    result = dbtRunner(callbacks=[lambda e: lines.append(e.info.msg) if e.info.name == "JinjaLogInfo" else None]
                       ).invoke([*args, "--project-dir", str(project.directory), "--profiles-dir",
                                 str(project.directory), "--target", project.target])
    assert result.success, result.exception
    return [line for line in lines if line.startswith("steward")]


def project_score(project) -> tuple:
    return tuple(project.warehouse.query(
        f"select score, tests_run, current_status from {project.warehouse.schema_prefix}.steward_quality_scorecard "
        "where scope = 'project'")[0])


@pytest.fixture(scope="session")
def journey(adapter, project_factory) -> Journey:
    project = project_factory(FIXTURE, adapter, "adopter")
    trip = Journey(project)
    project.dbt("deps")
    # Plain dbt, as a newcomer runs it first: nothing of steward chosen, then switches set (the run-end hook
    # runs after every seed, run or build, so one seed and one view are enough).
    trip.notices["nothing chosen"] = dbt_logs(project, "seed", "--select", "raw_orders")
    trip.notices["switches set"] = dbt_logs(project, "run", "--select", "stg_orders", "--vars",
                                            "{steward: {column_catalog: false, pii_patterns_seed: false}}")
    manifest = json.loads((project.directory / "target" / "manifest.json").read_text())
    trip.kept["catalog and seed off"] = sorted(  # their tests included
        node["name"] for node in manifest["nodes"].values()
        if node["package_name"] == "steward" and node["resource_type"] != "operation" and node["config"]["enabled"])
    trip.steps["env"] = project.cli("env", "--json", "--target", "prod", env=CI)
    trip.steps["first deploy"] = project.cli("deploy", "--target", "prod", "--yes", env=CI)
    trip.scores["first deploy"] = project_score(project)

    orders = project.directory / "models" / "marts" / "orders.sql"
    orders.write_text(orders.read_text().replace("select * from final\n", CHANGED_TAIL))
    trip.catalogs["before"] = project.warehouse.catalog()
    trip.steps["check"] = project.cli("check", "--target", "prod", env=NO_CI)
    trip.steps["refused"] = project.cli("deploy", "--target", "prod", "--yes", env=CI)
    trip.catalogs["after refusal"] = project.warehouse.catalog()

    # The printed migration, followed as printed: the tests on the removed column still stand.
    migration = next(line.split(". ", 1)[1] for line in trip.steps["refused"].stderr.splitlines()
                     if re.match(r"  \d+\. steward deploy ", line))
    trip.steps["migration"] = project.cli(*shlex.split(migration)[1:], env=CI)
    trip.scores["migration"] = project_score(project)
    # Then as the refusal says: update or remove those tests first.
    properties = project.directory / "models" / "marts" / "_marts.yml"
    models = yaml.safe_load(properties.read_text())
    orders_model = next(model for model in models["models"] if model["name"] == "orders")
    orders_model["columns"] = [c for c in orders_model["columns"] if c["name"] != "discount_amount"]
    properties.write_text(yaml.safe_dump(models, sort_keys=False))
    (project.directory / "tests" / "discount_below_amount.sql").unlink()
    trip.steps["migration again"] = project.cli(*shlex.split(migration)[1:], env=CI)
    trip.scores["migration again"] = project_score(project)
    return trip


# --- what installing the package adds (issue 19, item 8) ---------------------------------------------

def test_a_plain_dbt_run_names_what_the_package_added_in_one_line(journey):
    [notice] = journey.notices["nothing chosen"]
    assert notice.startswith(NOTICE)
    for added in ("view steward_column_catalog (column_catalog: false)",
                  "snapshot steward_schema_history (schema_history: false)",
                  "seed steward_pii_patterns (pii_patterns_seed: false)",
                  "an on-run-end hook that records nothing while record_runs is off"):
        assert added in notice
    # A project that has set its switches chose: no line, and what it switched off is not built, nor tested.
    assert journey.notices["switches set"] == []
    assert journey.kept["catalog and seed off"] == []  # the history snapshots the catalog: it goes with it


# --- CI without .git, durations (items 9 and 5) -------------------------------------------------------

def test_a_ci_job_without_git_may_deploy_to_prod(journey):
    env = json.loads(journey.steps["env"].stdout)
    assert env["git"] == {"branch": "main", "sha": CI["GITHUB_SHA"], "dirty": False, "source": "GitHub Actions"}
    assert env["policy"]["rollback_retention"] == "7d"
    first = journey.steps["first deploy"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert "safety override" not in first.stderr


def test_without_git_and_without_ci_prod_is_refused_and_says_why(journey):
    lines = {line.split()[1]: line for line in journey.steps["check"].stdout.splitlines()
             if line.startswith(("pass", "FAIL", "warn"))}
    assert lines["prod"].startswith("FAIL")
    assert "branch unknown (not a git checkout, and no CI provider" in lines["prod"]
    assert lines["clean"].startswith("FAIL") and "is unknown (not a git checkout" in lines["clean"]


# --- what a deploy says it built (item 6) -------------------------------------------------------------

def test_the_closing_line_says_what_was_built_in_every_format(journey):
    out = journey.steps["first deploy"].stdout
    closing = next(line for line in out.splitlines() if line.startswith("Deployed "))
    built = re.match(r"Deployed 12 nodes: 7 models, 4 seeds, 1 snapshot, plus (\d+) of package steward \(", closing)
    assert built, closing
    report_dir = journey.project.directory / re.search(r"Reports in (\S+)/:", out).group(1)
    document = json.loads((report_dir / "report.json").read_text())
    assert document["closing_line"] == closing
    assert document["summary"]["nodes_built"] == {"models": 7, "seeds": 4, "snapshots": 1,
                                                  "packages": {"steward": int(built.group(1))}}
    assert f"> {closing}" in (report_dir / "report.md").read_text()
    assert closing.split(" (")[0] in (report_dir / "report.html").read_text()


# --- steward check: lint judges the change, and which exit code wins (items 3 and 4) -----------------

def test_check_fails_lint_only_on_changed_lines_in_the_adapters_dialect(journey):
    checked = journey.steps["check"]
    lint = next(line for line in checked.stdout.splitlines() if line.split()[1:2] == ["lint"])
    changed = (journey.project.directory / "models" / "marts" / "orders.sql").read_text().splitlines()
    planted = changed.index("FROM final") + 1
    # The upper-case FROM is the change's; the layout of lines 6 and 10 was there before, and the DuckDB
    # `exclude` / `similar to` lines parse: no PRS, as sqlfluff's default ansi would report.
    assert lint.startswith("FAIL"), lint
    assert (f"1 violation(s) on lines changed since the kept state: models/marts/orders.sql:{planted}:1: CP01"
            in lint), lint
    assert re.search(r"\((\d+) on unchanged lines, not counted: see steward lint\)", lint), lint
    assert "PRS" not in lint


def test_check_exits_with_the_failure_that_stops_a_deploy_first(journey):
    checked = journey.steps["check"]
    assert checked.returncode == 3, checked.stdout + checked.stderr[-2000:]
    assert checked.stderr.splitlines()[-1] == (
        "steward: check failed: prod branch (exit 3), clean working tree (exit 3), changes (exit 3), "
        "lint (exit 1); exit 3, the failure that stops a deploy first")


@pytest.mark.parametrize(("codes", "expected"), [
    ((1,), 1), ((1, 3), 3), ((3, 2, 1), 2), ((6, 1), 6), ((4, 3), 3), ((1, 6, 4), 4), ((), 0),
])
def test_exit_code_precedence(codes, expected):
    checks = [Check(f"check {index}", False, "failed", exit_code=code) for index, code in enumerate(codes)]
    checks.append(Check("warning only", False, "not blocking", blocking=False, exit_code=5))
    assert exit_code(checks) == expected
    assert [check.exit_code for check in failed(checks)][:1] == ([expected] if codes else [])


def test_changed_lines_against_a_kept_text_and_a_git_base(tmp_path):
    assert changed_lines("a\nb\nc\n", "a\nB\nc\nd\n") == {2, 4}
    assert changed_lines("a\nb\n", "b\n") == frozenset()  # a deleted line changes none that remain
    from harness import git

    assert changed_since_git_base(tmp_path) is None
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "kept.sql").write_text("select\n    1 as a,\n    2 as b\n")
    (tmp_path / "notes.md").write_text("not sql\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "switch", "-q", "-c", "feature")
    (tmp_path / "kept.sql").write_text("select\n    1 as a,\n    3 as b,\n    4 as c\n")
    (tmp_path / "new.sql").write_text("select 1\n")
    assert changed_since_git_base(tmp_path) == {"kept.sql": {3, 4}, "new.sql": None}


def test_without_sqlfluff_configuration_the_dialect_follows_the_adapter():
    assert [dialect_for(adapter) for adapter in ("duckdb", "postgres", "spark")] == ["duckdb", "postgres", "sparksql"]


# --- the refusal and its migration (items 1 and 2, issue 18) ------------------------------------------

def test_a_refusal_prints_the_refusal_the_impact_and_the_migration_only(journey):
    refused = journey.steps["refused"]
    assert refused.returncode == 3, refused.stderr[-3000:]
    assert refused.stdout == ""
    lines = refused.stderr.splitlines()
    target = journey.project.directory
    where = f"--project-dir {target} --profiles-dir {target} --target prod"
    assert lines == [
        "steward: comparing the columns of orders with the deployed relations (dbt compile)",
        "steward: error: refused: 1 breaking change(s) for prod target prod; migrate with the steps below, "
        "or pass --allow-breaking",
        "  - orders: column discount_amount removed (downstream: customer_revenue, exposure loyalty_report "
        f"(ops@bakery.example); tests using discount_amount: {STALE_TESTS})",
        "  1. update or remove the tests that use the changed columns first, or the deploy fails on them and is "
        f"rolled back: orders.discount_amount: {STALE_TESTS}",
        "  2. tell the owners of the exposures downstream first: loyalty_report (ops@bakery.example)",
        f"  3. steward deploy {where} --select orders+ --allow-breaking --yes",
    ]
    assert journey.catalogs["after refusal"] == journey.catalogs["before"]


def test_the_migration_fails_on_the_stale_tests_and_works_once_they_are_updated(journey):
    migration = journey.steps["migration"]
    assert migration.returncode == 1, migration.stderr[-3000:]
    assert "not_null_orders_discount_amount" in migration.stderr and "restored" in migration.stderr
    again = journey.steps["migration again"]
    assert again.returncode == 0, again.stderr[-3000:]
    columns = journey.project.warehouse.query(
        "select column_name from information_schema.columns where table_schema = "
        f"'{journey.project.warehouse.schema_prefix}' and table_name = 'orders'")
    assert "discount_amount" not in {name for (name,) in columns}


# --- the scorecard and rolled-back deploys (item 7) ---------------------------------------------------

def test_a_rolled_back_deploy_stays_in_the_history_but_out_of_the_scorecard(journey):
    project, schema = journey.project, journey.project.warehouse.schema_prefix
    failed_id = journey.deploy_id("migration")
    like = "%s" if project.adapter == "postgres" else "?"
    # Its results are history: the invocation and the tests that errored on the missing column.
    statuses = dict(project.warehouse.query(
        f"select r.node_name, r.status from {schema}.steward_node_results r join {schema}.steward_invocations i "
        f"on i.invocation_id = r.invocation_id where i.deploy_id = {like} and r.resource_type = 'test'", (failed_id,)))
    assert statuses["not_null_orders_discount_amount"] == "error"
    marks = project.warehouse.query(
        f"select command, status from {schema}.steward_invocations where deploy_id = {like} order by 1",
        (failed_id,))
    assert marks == [("build", "failed"), ("steward", "rolled_back")]
    # ...but not the scorecard's: neither right after the rollback nor on the next good deploy.
    assert journey.scores["first deploy"][0] == 100
    assert journey.scores["migration"] == journey.scores["first deploy"]
    assert journey.scores["migration again"][0] == 100 and journey.scores["migration again"][2] == "pass"

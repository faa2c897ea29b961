"""Change management on real builds of examples/shop: every change classified against the kept state,
the prod gate on breaking changes, --changed-only, and lint of what changed."""

from __future__ import annotations

import pytest
from harness import git
from test_guarded_deploy import api_context, api_deploy, as_git_repository

from steward.changes.classify import assess
from steward.dbt.invocation import DbtInvoker, release_duckdb_file

# Models added to the copy before its first deploy, each to be changed in one way.
EXTRA_MODELS = {
    "chg_contract_type.sql": "select cast(1 as integer) as id, cast(2 as integer) as amount\n",
    "chg_contract_mat.sql": "select cast(1 as integer) as id\n",
    "chg_disabled.sql": "select 1 as id\n",
    "chg_meta.sql": "select 1 as id\n",
    "chg_tests.sql": "select 1 as id\n",
    "chg_grain.sql": "select 1 as id, 2 as k\n",
    "chg_added.sql": "select 1 as id\n",
    "chg_rename.sql": "select 1 as id, 'kept' as label\n",
}
EXTRA_YML = """
version: 2
models:
  - name: chg_contract_type
    config: {contract: {enforced: true}}
    columns:
      - {name: id, data_type: integer}
      - {name: amount, data_type: integer}
  - name: chg_contract_mat
    config: {contract: {enforced: true}, materialized: table}
    columns:
      - {name: id, data_type: integer}
  - name: chg_meta
    config: {meta: {owner: finance}}
  - name: chg_tests
    columns:
      - name: id
  - name: chg_grain
    config: {meta: {grain: [id]}}
"""

EXPECTED = {
    ("fct_orders", "column_removed", True),
    ("fct_orders", "unique_key", True),
    ("dim_products", "column_renamed", True),
    ("stg_orders", "column_type", True),
    ("chg_contract_type", "column_type", True),
    ("chg_contract_mat", "materialization", True),
    ("chg_disabled", "disabled", True),
    ("chg_rename", "renamed", True),
    ("dim_dates", "removed", True),
    ("chg_grain", "grain", True),
    ("chg_added", "column_added", False),
    ("chg_meta", "meta", False),
    ("chg_tests", "tests", False),
    ("fct_daily_revenue", "docs", False),
}


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def make_changes(directory) -> None:
    marts = directory / "models" / "marts"
    edit(marts / "fct_orders.sql", "        cast(coalesce(payments_per_order.payment_count, 0) as "
                                   "{{ dbt.type_bigint() }}) as payment_count,\n", "")
    edit(marts / "fct_orders.sql", "unique_key='order_id'", "unique_key=['order_id', 'customer_id']")
    edit(marts / "dim_products.sql", "}}) as units_sold", "}}) as unit_count")
    edit(directory / "models" / "staging" / "stg_orders.sql", "cast(customer_id as integer)",
         "cast(customer_id as bigint)")
    edit(marts / "chg_contract_type.sql", "cast(2 as integer)", "cast(2 as bigint)")
    edit(marts / "_chg.yml", "{name: amount, data_type: integer}", "{name: amount, data_type: bigint}")
    edit(marts / "_chg.yml", "materialized: table}", "materialized: view}")
    (marts / "chg_disabled.sql").write_text("{{ config(enabled=false) }}\nselect 1 as id\n")
    edit(marts / "_chg.yml", "{owner: finance}", "{owner: sales}")
    edit(marts / "_chg.yml", "      - name: id\n", "      - name: id\n        data_tests: [not_null]\n")
    edit(marts / "_chg.yml", "{grain: [id]}", "{grain: [id, k]}")
    (marts / "chg_added.sql").write_text("select 1 as id, 2 as extra\n")
    (marts / "chg_rename.sql").rename(marts / "chg_renamed.sql")
    (marts / "dim_dates.sql").unlink()
    (marts / "_dim_dates.yml").unlink()
    edit(marts / "_marts__models.yml", "Order and revenue figures per order day", "Revenue per order day")


@pytest.fixture(scope="module")
def changed_shop(adapter, project_factory):
    """A shop deployed to prod, then changed in every way; the changes are committed (prod needs a clean tree)."""
    project = project_factory("examples/shop", adapter, "shop", label="changes")
    marts = project.directory / "models" / "marts"
    for name, sql in EXTRA_MODELS.items():
        (marts / name).write_text(sql)
    (marts / "_chg.yml").write_text(EXTRA_YML)
    project.dbt("deps")
    as_git_repository(project.directory)
    assert api_deploy(project, target="prod", yes=True).status == "succeeded"
    make_changes(project.directory)
    git(project.directory, "add", "-A")
    git(project.directory, "commit", "-qm", "breaking changes")
    context = api_context(project, "prod")
    project.report = assess(context, DbtInvoker(context.project, quiet=True))
    release_duckdb_file()  # the CLI runs below in processes of their own
    return project


def test_each_change_is_classified(changed_shop):
    found = {(c.name, c.kind, c.breaking) for c in changed_shop.report.changes}
    assert found >= EXPECTED, sorted(EXPECTED - found)
    breaking = {(c.name, c.kind) for c in changed_shop.report.breaking}
    assert breaking == {(name, kind) for name, kind, is_breaking in EXPECTED if is_breaking}
    details = {c.name: c.detail for c in changed_shop.report.changes if c.breaking}
    assert details["dim_products"] == "column units_sold renamed to unit_count"
    assert details["chg_rename"] == "renamed to chg_renamed"
    assert "integer -> bigint" in details["stg_orders"] and "customer_id" in details["stg_orders"]
    assert changed_shop.report.notes == []


def test_impact_lists_children_and_exposures(changed_shop):
    report = changed_shop.report
    stg_orders = next(c.unique_id for c in report.changes if c.name == "stg_orders")
    impact = report.impact[stg_orders]
    assert {"fct_orders", "fct_daily_revenue"} <= set(impact.models)
    assert impact.exposures == ("revenue_dashboard (analytics@example.com)",)
    chg_added = next(c.unique_id for c in report.changes if c.name == "chg_added")
    assert report.impact[chg_added].models == () and report.impact[chg_added].exposures == ()


def test_breaking_prod_deploy_is_refused_then_allowed(changed_shop):
    before = changed_shop.warehouse.catalog()
    refused = changed_shop.cli("deploy", "--target", "prod", "--yes")
    assert refused.returncode == 3, refused.stderr[-3000:]
    assert "breaking change(s) for prod target prod" in refused.stderr
    assert "fct_orders: column payment_count removed" in refused.stderr
    assert "--select fct_orders+ --full-refresh --allow-breaking --yes" in refused.stderr
    assert "steward backfill" in refused.stderr and "--select fct_orders --start 2024-02-20" in refused.stderr
    # The refusal and its migration, nothing else: no progress of the gate's compile, no compiled SQL.
    assert all(line.startswith(("steward: ", "  - ", "  ")) and not line.startswith("  select")
               for line in refused.stderr.splitlines()), refused.stderr
    assert not any(line.startswith("[") for line in refused.stderr.splitlines())
    assert changed_shop.warehouse.catalog() == before

    result = api_deploy(changed_shop, target="prod", yes=True, allow_breaking=True, full_refresh=True)
    assert result.status == "succeeded"
    assert any("--allow-breaking" in warning for warning in result.warnings)
    context = api_context(changed_shop, "prod")
    assert assess(context, DbtInvoker(context.project, quiet=True)).breaking == []


@pytest.fixture(scope="module")
def small_change_shop(adapter, project_factory):
    project = project_factory("examples/shop", adapter, "shop", label="changedonly")
    project.dbt("deps")
    assert api_deploy(project).status == "succeeded"
    return project


def test_changed_only_builds_the_modified_subtree_and_check_lints_what_changed(small_change_shop):
    shop = small_change_shop
    marts = shop.directory / "models" / "marts"
    edit(marts / "fct_orders.sql", "select * from final", "select * from final\nwhere order_id > 0")
    result = api_deploy(shop, changed_only=True)
    built = {node.name for node in result.outcome.nodes if node.resource_type == "model"}
    assert built == {"fct_orders", "fct_daily_revenue"}
    assert shop.warehouse.scalar(f"select count(*) from {shop.warehouse.schema_prefix}.fct_orders") == 85

    edit(marts / "dim_products.sql", "select * from final", "SELECT * FROM final")
    release_duckdb_file()  # the CLI runs below in processes of their own
    checked = shop.cli("check")
    assert checked.returncode == 1, checked.stdout + checked.stderr[-2000:]
    lint_line = next(line for line in checked.stdout.splitlines() if line.split()[1:2] == ["lint"])
    assert lint_line.startswith("FAIL") and "since the kept state" in lint_line
    assert "models/marts/dim_products.sql" in lint_line and "CP01" in lint_line
    assert "fct_orders.sql" not in lint_line  # deployed since; not a change any more
    assert "dim_products: SQL or config changed" in checked.stdout

    linted = shop.cli("lint", "models/marts/dim_products.sql", "models/marts/fct_orders.sql")
    assert linted.returncode == 1
    assert "models/marts/dim_products.sql:" in linted.stdout and "CP01" in linted.stdout
    assert "lint: 2 violation(s) in 1 file(s)" in linted.stderr


def test_changed_only_without_kept_state_is_bad_input(adapter, project_factory):
    from steward.errors import BadInput

    project = project_factory("examples/shop", adapter, "shop", label="nostate")
    with pytest.raises(BadInput, match="has no kept state yet"):
        api_deploy(project, changed_only=True)

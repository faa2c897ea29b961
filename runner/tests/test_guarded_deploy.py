"""Guarded deploys on real builds of examples/shop: restore on failure, idempotence, rollback, safety.

Deploys run in-process through the Python API (what an orchestrator calls); the CLI's exit codes
are covered by the errors table test and by test_deploy_processes.py, which needs real processes.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from harness import git, pg_settings

from steward.config.context import open_context
from steward.config.project import Connection
from steward.dbt.invocation import DbtInvoker
from steward.deploy import DeployOptions, deploy
from steward.deploy.recovery import list_deploys, prune, rollback
from steward.errors import BadInput, DbtFailed, SafetyRefused, exit_code_for
from steward.warehouse import Comments, Described, Privilege, Relation, opened
from steward.warehouse.rollback import RollbackEntry, RollbackStore

FAILING_TEST = "select order_id from {{ ref('fct_orders') }} where order_id is not null\n"


def api_deploy(project, target: str = "ci", env: dict | None = None, **options):
    context = open_context(project.directory, project.directory, target, env=env or {}, stdin_is_tty=False)
    return deploy(context, DeployOptions(**options), DbtInvoker(context.project, quiet=True))


def deploy_failing_after_rebuild(project) -> DbtFailed:
    """Deploy the whole project with fct_orders rebuilt short of rows and a test on it failing, and put the
    files back; the DbtFailed the deploy raised."""
    model = project.directory / "models" / "marts" / "fct_orders.sql"
    original = model.read_text()
    failing = project.directory / "tests" / "fct_orders_fails.sql"
    failing.parent.mkdir(exist_ok=True)
    try:
        model.write_text(original.rstrip().rstrip(";") + "\nlimit 3\n")
        failing.write_text(FAILING_TEST)
        with pytest.raises(DbtFailed) as raised:
            api_deploy(project)
    finally:
        model.write_text(original)
        failing.unlink()
    return raised.value


def api_context(project, target: str = "ci"):
    return open_context(project.directory, project.directory, target, env={}, stdin_is_tty=False)


@pytest.fixture(scope="module")
def shop(adapter, project_factory):
    """A copy of examples/shop deployed once, so later deploys have something to protect."""
    project = project_factory("examples/shop", adapter, "shop", label="guarded")
    project.dbt("deps")
    api_deploy(project)
    return project


def test_failed_test_after_rebuild_restores_every_relation(shop):
    before = shop.warehouse.contents()
    failed = deploy_failing_after_rebuild(shop)
    assert exit_code_for(failed) == 1
    assert "restored" in str(failed) and "verified" in str(failed)
    assert shop.warehouse.contents() == before
    latest = list_deploys(api_context(shop))[0]
    assert latest.record.state == "rolled_back"
    assert [state for state, _ in latest.record.history] == [
        "planned", "locked", "snapshotted", "building", "failed", "rolled_back"]
    # The run was recorded by the package's hook, and the rollback kept that record; the runner added its mark,
    # which keeps the rolled-back results out of the quality scorecard.
    schema = shop.warehouse.schema_prefix
    recorded = shop.warehouse.query(
        f"select command, status, tier, test_failures from {schema}.steward_invocations "
        f"where deploy_id = '{latest.record.deploy_id}' order by command")
    assert recorded == [("build", "failed", "dev", 1), ("steward", "rolled_back", "dev", 0)]
    failed_test = shop.warehouse.query(
        f"select r.status, r.model_unique_id from {schema}.steward_node_results r "
        f"join {schema}.steward_invocations i on r.invocation_id = i.invocation_id "
        f"where i.deploy_id = '{latest.record.deploy_id}' and r.node_name = 'fct_orders_fails'")
    assert failed_test == [("fail", None)]


def test_same_deploy_twice_gives_identical_data(shop):
    api_deploy(shop)
    first = shop.warehouse.contents()
    api_deploy(shop)
    assert shop.warehouse.contents() == first


def test_rollback_of_a_successful_deploy_and_again_is_a_no_op(shop):
    before = shop.warehouse.contents()
    model = shop.directory / "models" / "marts" / "fct_daily_revenue.sql"
    original = model.read_text()
    try:
        model.write_text(original.rstrip().rstrip(";") + "\nlimit 2\n")
        result = api_deploy(shop, select="fct_daily_revenue")
    finally:
        model.write_text(original)
    assert result.status == "succeeded"
    assert shop.warehouse.contents() != before
    undone = rollback(api_context(shop), result.deploy_id)
    assert not undone.already and undone.record.state == "rolled_back"
    assert shop.warehouse.contents() == before
    again = rollback(api_context(shop), result.deploy_id)
    assert again.already
    assert shop.warehouse.contents() == before
    # A manual rollback marks the deploy in the audit log too, once.
    marked = shop.warehouse.query(f"select command, status from {shop.warehouse.schema_prefix}.steward_invocations "
                                  f"where deploy_id = '{result.deploy_id}' order by command")
    assert marked == [("build", "success"), ("steward", "rolled_back")]


def test_view_created_outside_dbt_survives_deploy_and_rollback(shop):
    schema = shop.warehouse.schema_prefix
    consumer = f"{schema}_consumers"
    shop.warehouse.execute(f"create schema if not exists {consumer}")
    shop.warehouse.execute(f"create view {consumer}.big_orders as select order_id from {schema}.fct_orders "
                           "where gross_amount > 100")
    expected = shop.warehouse.scalar(f"select count(*) from {consumer}.big_orders")
    result = api_deploy(shop, select="+fct_orders")
    assert shop.warehouse.scalar(f"select count(*) from {consumer}.big_orders") == expected
    rollback(api_context(shop), result.deploy_id)
    assert shop.warehouse.scalar(f"select count(*) from {consumer}.big_orders") == expected


def test_comments_come_back_with_the_relations(shop):
    """A rollback restores the comments of tables, views and their columns (persist_docs writes them): the
    copy a table comes back from lacks the table's own comment, a recreated view has none."""
    schema = shop.warehouse.schema_prefix
    table, view = Relation(schema, "fct_orders"), Relation(schema, "stg_orders")
    for kind, relation in (("table", table), ("view", view)):
        shop.warehouse.execute(f"comment on {kind} {relation} is 'The {relation.name}, one row per order'")
        shop.warehouse.execute(f"comment on column {relation}.order_id is 'Order id: it''s the \\ key'")

    def comments() -> dict:
        with opened(api_context(shop).project.connection) as warehouse:
            return warehouse.comments([table, view])

    before = comments()
    assert before[table] == Comments("The fct_orders, one row per order", (("order_id", "Order id: it's the \\ key"),))
    assert before[view].relation == "The stg_orders, one row per order"
    failed = deploy_failing_after_rebuild(shop)
    assert "verified" in str(failed)
    assert comments() == before
    # Verification checks comments as it checks grants: a comment that differs is a mismatch.
    context = api_context(shop)
    deploy_id = list_deploys(context)[0].record.deploy_id
    with opened(context.project.connection) as warehouse:
        store = RollbackStore(warehouse, context.policy.rollback_schema)
        entries = [entry for entry in store.entries(deploy_id) if entry.relation in (table, view)]
        assert len(entries) == 2 and store.verify(entries) == []
        warehouse.execute(f"comment on column {warehouse.qualified(table)}.order_id is 'changed'")
        try:
            assert [(m.relation, m.expected) for m in store.verify(entries)] == [(table, "comments on column order_id")]
        finally:
            warehouse.execute(f"comment on column {warehouse.qualified(table)}.order_id is "
                              f"{warehouse.literal(dict(before[table].columns)['order_id'])}")


READER = "steward_test_reader"
GONE = "steward_test_gone"
EXTRA = '"Steward Extra"'  # a role name that must be quoted


def test_grants_come_back_with_the_relations(shop, adapter):
    """What a relation granted other roles is part of what a rollback restores, and an outside view that
    dbt's CASCADE took along comes back with its grants: a reporting role keeps its access."""
    if adapter == "duckdb":
        pytest.skip("DuckDB has no roles or privileges")
    schema = shop.warehouse.schema_prefix
    consumer = f"{schema}_consumers"
    view = f"{consumer}.customer_segments"
    granted = [f"{schema}.fct_orders", f"{schema}.stg_orders", f"{schema}.dim_customers", view]
    shop.warehouse.execute(f"do $$ begin create role {READER}; exception when duplicate_object then null; end $$")
    shop.warehouse.execute(f"create schema if not exists {consumer}")
    shop.warehouse.execute(f"create view {view} as select segment, count(*) as customers "
                           f"from {schema}.dim_customers group by segment")
    shop.warehouse.execute(f"comment on view {view} is 'Customers per segment'")
    # The rollback schema grants EXTRA every table created in it, so each copy does; the tables it brings
    # back must grant exactly what they did, which was nothing to EXTRA.
    rollback_schema = api_context(shop).policy.rollback_schema
    shop.warehouse.execute(f"do $$ begin create role {EXTRA}; exception when duplicate_object then null; end $$")
    shop.warehouse.execute(f"alter default privileges in schema {rollback_schema} grant select on tables to {EXTRA}")

    def readable(role: str = READER) -> dict[str, bool]:
        return {relation: shop.warehouse.scalar(f"select has_table_privilege('{role}', '{relation}', 'select')")
                for relation in granted}

    try:
        for relation in granted:
            shop.warehouse.execute(f"grant select on {relation} to {READER}")
        everything = dict.fromkeys(granted, True)
        assert readable() == everything
        # Every table is rebuilt (dim_customers with CASCADE, taking the view along), then a test fails.
        assert "verified" in str(deploy_failing_after_rebuild(shop))
        assert readable() == everything
        assert not any(readable(EXTRA.strip('"')).values())

        # A successful deploy: dbt's new dim_customers grants what its config says (nothing, here), the
        # outside view steward puts back grants what it did. A role dropped after the rollback point was
        # made does not stop the rollback.
        shop.warehouse.execute(f"do $$ begin create role {GONE}; exception when duplicate_object then null; end $$")
        shop.warehouse.execute(f"grant select on {schema}.dim_customers to {GONE}")
        result = api_deploy(shop, select="dim_customers")
        assert readable() == {**everything, f"{schema}.dim_customers": False}
        assert shop.warehouse.scalar(f"select obj_description('{view}'::regclass, 'pg_class')") == \
            "Customers per segment"
        shop.warehouse.execute(f"drop role {GONE}")
        rollback(api_context(shop), result.deploy_id)
        assert readable() == everything
    finally:
        shop.warehouse.execute(f"alter default privileges in schema {rollback_schema} revoke select on tables "
                               f"from {EXTRA}")
        shop.warehouse.execute(f"drop view if exists {view}")
        for relation in granted[:-1]:
            shop.warehouse.execute(f"revoke all on {relation} from {READER}")


def test_rollback_entries_read_back_whatever_steward_wrote_them():
    """An entry survives its JSON form; one from before grants and comments were kept leaves them alone
    (None), and keys a newer steward added are passed over."""
    entry = RollbackEntry("d1", 0, Relation("s", "t"), "table", copy=Relation("r", "t_b"), row_count=3,
                          checksum="42", described=Described(
                              frozenset({Privilege("Steward Extra", "SELECT"), Privilege("public", "UPDATE", True)}),
                              Comments("it's \\ here", (("a", "first"), ("b", "second")))))
    assert RollbackEntry.from_json(entry.to_json()) == entry
    old = json.loads(entry.to_json())
    del old["described"]
    assert RollbackEntry.from_json(json.dumps(old)) == replace(entry, described=None)
    assert RollbackEntry.from_json(json.dumps({**old, "added_later": [1]})) == replace(entry, described=None)


def test_an_outside_view_that_no_longer_fits_fails_the_deploy_and_is_restored(shop, adapter):
    """dbt's CASCADE takes an outside view along when it rebuilds its table; when the view no longer fits the
    new table (a column it reads is gone) the deploy fails after a clean build, is rolled back, and the row
    counts its build recorded are forgotten: they never described the warehouse."""
    if adapter == "duckdb":
        pytest.skip("DuckDB drops no dependent view when dbt replaces a table")
    schema = shop.warehouse.schema_prefix
    consumer = f"{schema}_fits"
    view = f"{consumer}.product_units"
    shop.warehouse.execute(f"create schema if not exists {consumer}")
    shop.warehouse.execute(f"create view {view} as select product_id, units_sold from {schema}.dim_products")
    before = sorted(shop.warehouse.query(f"select * from {view}"))
    model = shop.directory / "models" / "marts" / "dim_products.sql"
    original = model.read_text()
    without_units = re.sub(r"\n\s*cast\(coalesce\(sales\.units_sold[^\n]*", "", original)
    assert without_units != original
    try:
        model.write_text(without_units)
        with pytest.raises(DbtFailed, match="could not be recreated") as raised:
            api_deploy(shop, select="dim_products")
        assert "verified" in str(raised.value)
        assert before and sorted(shop.warehouse.query(f"select * from {view}")) == before  # back, as it was
    finally:
        model.write_text(original)
        shop.warehouse.execute(f"drop schema if exists {consumer} cascade")
    deploy_id = list_deploys(api_context(shop))[0].record.deploy_id
    # The build succeeded; the deploy was rolled back all the same, and is marked so.
    status = shop.warehouse.query(f"select command, status from {schema}.steward_invocations where deploy_id = %s "
                                  "order by command", (deploy_id,))
    counts = shop.warehouse.query(
        f"select count(*) from {schema}.steward_metrics where invocation_id in "
        f"(select invocation_id from {schema}.steward_invocations where deploy_id = %s)", (deploy_id,))
    assert status == [("build", "success"), ("steward", "rolled_back")] and counts == [(0,)]


def test_a_model_built_into_another_database_is_refused_before_anything_changes(shop):
    """Rollback points name relations by schema and name in the target's database: a model built elsewhere
    (a DuckDB attach) would be snapshotted as the wrong relation, so the plan refuses it."""
    before = shop.warehouse.catalog()
    model = shop.directory / "models" / "elsewhere.sql"
    model.write_text("{{ config(database='elsewhere') }}\nselect 1 as id\n")
    try:
        with pytest.raises(BadInput) as raised:
            api_deploy(shop, select="elsewhere")
    finally:
        model.unlink()
    assert exit_code_for(raised.value) == 2
    assert "model.shop.elsewhere builds into database 'elsewhere'" in str(raised.value)
    assert shop.warehouse.catalog() == before


def test_bad_input_is_refused_and_changes_nothing(shop):
    before = shop.warehouse.catalog()
    policy = shop.directory / "steward.yml"
    original_policy = policy.read_text()
    cases = [
        dict(select="fct_orders;drop"),
        dict(exclude="bogus:thing"),
        dict(vars="{start: ["),
        dict(override_reason="  "),
    ]
    for options in cases:
        with pytest.raises(BadInput) as raised:
            api_deploy(shop, **options)
        assert exit_code_for(raised.value) == 2
        assert "\n" not in str(raised.value)
    for bad_policy in ("schedule: 'at dawn'\n", "rollback: {retention: forever}\n", "rollback: {schema: 'x; drop'}\n"):
        policy.write_text(bad_policy)
        try:
            with pytest.raises(BadInput):
                api_deploy(shop)
        finally:
            policy.write_text(original_policy)
    assert shop.warehouse.catalog() == before


def as_git_repository(directory) -> None:
    """Make the project copy a clean git checkout on main (once; tests may run in any order)."""
    if (directory / ".git").exists():
        return
    git(directory, "init", "-q", "-b", "main")
    git(directory, "config", "user.email", "ci@example.com")
    git(directory, "config", "user.name", "ci")
    (directory / ".gitignore").write_text("target/\ndbt_packages/\nlogs/\n*.duckdb*\npackage-lock.yml\n")
    git(directory, "add", ".")
    git(directory, "commit", "-qm", "shop")


def test_prod_deploys_only_from_a_clean_allowed_branch(shop):
    directory = shop.directory
    as_git_repository(directory)
    before = shop.warehouse.catalog()
    try:
        git(directory, "switch", "-q", "-c", "feature/new-metric")
        with pytest.raises(SafetyRefused, match="prod branch: branch feature/new-metric"):
            api_deploy(shop, target="prod", yes=True)
        git(directory, "switch", "-q", "main")
        (directory / "models" / "marts" / "dim_products.sql").write_text("select 1 as product_id\n")
        with pytest.raises(SafetyRefused, match="clean working tree"):
            api_deploy(shop, target="prod", yes=True)
        git(directory, "checkout", "--", ".")
        assert shop.warehouse.catalog() == before
        with pytest.raises(SafetyRefused, match="needs confirmation"):
            api_deploy(shop, target="prod")
        result = api_deploy(shop, target="prod", yes=True, select="stg_products")
        assert result.status == "succeeded"
        assert result.record.tier == "prod" and result.record.git_branch == "main"
    finally:
        git(directory, "checkout", "-q", "main")
        git(directory, "checkout", "--", ".")


def test_override_safety_is_recorded(shop):
    as_git_repository(shop.directory)
    git(shop.directory, "switch", "-q", "-c", "hotfix/urgent")
    try:
        result = api_deploy(shop, target="prod", yes=True, select="stg_products",
                            override_reason="INC-42 hotfix approved by on-call")
    finally:
        git(shop.directory, "switch", "-q", "main")
    assert result.record.override_reason == "INC-42 hotfix approved by on-call"
    assert any("safety override" in warning for warning in result.warnings)


def test_prune_keeps_the_newest_points(shop):
    for _ in range(3):
        api_deploy(shop, select="stg_products")
    context = api_context(shop)
    kept_before = [item for item in list_deploys(context) if item.rollback_point == "kept"]
    assert len(kept_before) >= 3
    outcome = prune(context, keep=2, older_than=timedelta(seconds=1))
    listings = list_deploys(context)
    newest_two = [item.record.deploy_id for item in listings[:2]]
    assert set(newest_two) <= set(outcome.kept)
    assert all(item.rollback_point == "kept" for item in listings[:2])
    assert all(item.rollback_point != "kept" for item in listings[2:])
    assert outcome.pruned


def test_a_successful_deploy_deletes_expired_rollback_points(shop):
    """Points past the policy's retention, beyond its newest `keep`, go when a later deploy succeeds, with
    their copies: "kept until" holds without anyone running steward prune. The new deploy's point stays."""
    first = api_deploy(shop, select="dim_products")
    copies = [entry.copy for entry in first.rollback_point if entry.copy]

    def existing(relations) -> list:
        with opened(api_context(shop).project.connection) as warehouse:
            return [relation for relation, kind in warehouse.relation_kinds(relations).items() if kind]

    assert copies and existing(copies) == copies
    policy = shop.directory / "steward.yml"
    original = policy.read_text()
    settings = yaml.safe_load(original)
    # started_at has whole-second resolution and a DuckDB deploy can take under a second: wait until the
    # first deploy is surely older than the 1 s retention, whatever the host's speed
    expired = datetime.fromisoformat(first.record.started_at) + timedelta(seconds=2)
    time.sleep(max(0.0, (expired - datetime.now(timezone.utc)).total_seconds()))
    try:
        policy.write_text(yaml.safe_dump({**settings, "rollback": {**settings["rollback"], "retention": "1s",
                                                                   "keep": 1}}))
        second = api_deploy(shop, select="dim_products")
    finally:
        policy.write_text(original)
    assert first.deploy_id in second.pruned and second.deploy_id not in second.pruned
    points = {item.record.deploy_id: item.rollback_point for item in list_deploys(api_context(shop))}
    assert points[first.deploy_id] == "pruned" and points[second.deploy_id] == "kept"
    assert existing(copies) == []


OWNER = "steward_test_owner"


def test_what_steward_creates_belongs_to_the_profiles_role(adapter, project_factory):
    """With `role:` in the profile dbt works as that role. The tables a rollback brings back must belong
    to it as well, or dbt's next build cannot replace them ("must be owner")."""
    if adapter == "duckdb":
        pytest.skip("DuckDB has no roles")
    project = project_factory("examples/shop", adapter, "shop", label="role")
    project.warehouse.execute(f"do $$ begin create role {OWNER}; exception when duplicate_object then null; end $$")
    project.warehouse.execute(f"grant create on database {pg_settings()['dbname']} to {OWNER}")
    profiles = project.directory / "profiles.yml"
    profile = yaml.safe_load(profiles.read_text())
    profile["shop"]["outputs"]["ci"]["role"] = OWNER
    profiles.write_text(yaml.safe_dump(profile))
    project.dbt("deps")
    api_deploy(project, select="+dim_products", exclude="test_name:relationships")
    failing = project.directory / "tests" / "dim_products_fails.sql"
    failing.parent.mkdir(exist_ok=True)
    try:
        failing.write_text("select product_id from {{ ref('dim_products') }}\n")
        with pytest.raises(DbtFailed, match="verified"):
            api_deploy(project, select="dim_products")
    finally:
        failing.unlink()
    schema = project.warehouse.schema_prefix
    owners = project.warehouse.query(f"select distinct tableowner from pg_tables where schemaname = '{schema}'")
    assert owners == [(OWNER,)]
    assert api_deploy(project, select="dim_products").status == "succeeded"


def test_the_profiles_tls_settings_hold_for_stewards_connection(adapter):
    """sslmode: require in the profile holds for steward's own connection as it does for dbt's: against a
    server without TLS (this one) it refuses to connect, in one line, instead of settling for plain text."""
    if adapter == "duckdb":
        pytest.skip("DuckDB is a file, not a server")
    settings = {**pg_settings(), "database": pg_settings()["dbname"], "schema": "public"}
    with opened(Connection("postgres", settings)) as warehouse:
        assert warehouse.scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()") is False
    with pytest.raises(BadInput, match=r"cannot reach PostgreSQL: .*SSL"), \
            opened(Connection("postgres", {**settings, "sslmode": "require"})):
        pass

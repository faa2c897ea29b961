"""Guarded deploys on real builds of examples/shop: restore on failure, idempotence, rollback, safety.

Deploys run in-process through the Python API (what an orchestrator calls); the CLI's exit codes
are covered by the errors table test and by test_deploy_processes.py, which needs real processes.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from steward.errors import BadInput, ConnectionLost, DbtFailed, SafetyRefused, StorageFailed, exit_code_for
from steward.warehouse import Comments, Described, Privilege, Relation, opened
from steward.warehouse.journal import WarehouseJournal
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
    # To the microsecond: states a few milliseconds apart stay apart and in order.
    instants = [at for _, at in latest.record.history]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", at) for at in instants), instants
    assert instants == sorted(set(instants))
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
TABLE_OWNER = "steward_test_table_owner"
GONE = "steward_test_gone"
EXTRA = '"Steward Extra"'  # a role name that must be quoted


def test_grants_come_back_with_the_relations(shop, adapter):
    """What a relation and its columns granted other roles, and who owned it, are part of what a rollback
    restores and verifies, and an outside view that dbt's CASCADE took along comes back with its grants: a
    reporting role keeps its access."""
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
    # dim_customers belongs to another role than the one dbt and steward work as, and grants two columns.
    customers = f"{schema}.dim_customers"
    shop.warehouse.execute(f"do $$ begin create role {TABLE_OWNER}; exception when duplicate_object then null; "
                           "end $$")

    def readable(role: str = READER) -> dict[str, bool]:
        return {relation: shop.warehouse.scalar(f"select has_table_privilege('{role}', '{relation}', 'select')")
                for relation in granted}

    def owner_and_columns() -> tuple[str, list[tuple[str, str, str]]]:
        """dim_customers' owner, and every column-level grant of dim_customers and fct_orders."""
        owner = shop.warehouse.scalar(f"select pg_get_userbyid(relowner) from pg_class "
                                      f"where oid = '{customers}'::regclass")
        return owner, shop.warehouse.query(
            "select c.relname, a.attname, a.attacl::text from pg_attribute a join pg_class c on c.oid = a.attrelid "
            f"where c.oid in ('{customers}'::regclass, '{schema}.fct_orders'::regclass) and a.attacl is not null "
            "order by 1, 2")

    try:
        for relation in granted:
            shop.warehouse.execute(f"grant select on {relation} to {READER}")
        shop.warehouse.execute(f"alter table {customers} owner to {TABLE_OWNER}")
        shop.warehouse.execute(f"grant update (segment) on {customers} to {READER}")
        shop.warehouse.execute(f"grant update (order_status), references (order_id) on {schema}.fct_orders "
                               f"to {READER}")
        owned = owner_and_columns()
        assert owned[0] == TABLE_OWNER
        assert [column for _, column, _ in owned[1]] == ["segment", "order_id", "order_status"]
        everything = dict.fromkeys(granted, True)
        assert readable() == everything
        # Every table is rebuilt (dim_customers with CASCADE, taking the view along), then a test fails.
        assert "verified" in str(deploy_failing_after_rebuild(shop))
        assert readable() == everything
        assert owner_and_columns() == owned
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
        # dbt's new table: its own owner, no column grants
        owner, columns = owner_and_columns()
        assert owner != TABLE_OWNER and [row for row in columns if row[0] == "dim_customers"] == []
        shop.warehouse.execute(f"drop role {GONE}")
        rollback(api_context(shop), result.deploy_id)
        assert readable() == everything
        assert owner_and_columns() == owned
        # Verification checks the owner as it checks grants.
        context = api_context(shop)
        with opened(context.project.connection) as warehouse:
            store = RollbackStore(warehouse, context.policy.rollback_schema)
            entries = [e for e in store.entries(result.deploy_id) if str(e.relation) == customers]
            assert store.verify(entries) == []
            warehouse.execute(f"alter table {customers} owner to current_user")
            assert [(m.expected, m.found) for m in store.verify(entries)] == [
                (f"owner {TABLE_OWNER}", f"owner {pg_settings()['user']}")]
    finally:
        shop.warehouse.execute(f"alter default privileges in schema {rollback_schema} revoke select on tables "
                               f"from {EXTRA}")
        shop.warehouse.execute(f"drop view if exists {view}")
        for relation in granted[:-1]:
            shop.warehouse.execute(f"revoke all on {relation} from {READER}")


def test_rollback_entries_read_back_whatever_steward_wrote_them():
    """An entry survives its JSON form (owner and column grants included); one from before grants and comments
    were kept leaves them alone (None), and one of a later format is refused in one line (exit 2)."""
    entry = RollbackEntry("d1", 0, Relation("s", "t"), "table", copy=Relation("r", "t_b"), row_count=3,
                          checksum="42", described=Described(
                              frozenset({Privilege("Steward Extra", "SELECT"), Privilege("public", "UPDATE", True),
                                         Privilege("reader", "UPDATE", False, "segment")}),
                              Comments("it's \\ here", (("a", "first"), ("b", "second"))), owner="Owner Role"))
    assert RollbackEntry.from_json(entry.to_json()) == entry
    old = json.loads(entry.to_json())
    assert old["format"] == 2
    del old["described"], old["format"]  # as steward wrote entries before it kept grants, and before formats
    assert RollbackEntry.from_json(json.dumps(old)) == replace(entry, described=None)
    with pytest.raises(BadInput) as raised:
        RollbackEntry.from_json(json.dumps({**old, "format": 3}))
    assert exit_code_for(raised.value) == 2
    assert str(raised.value) == ("the rollback point of deploy d1 was written by a newer steward (format 3; this one "
                                 "reads up to 2): upgrade steward (pip install -U dbt-steward) to use it")


def test_a_rollback_point_steward_cannot_trust_changes_nothing(shop):
    """After a downgrade, a rollback point or a journal record written in a later format is refused in one line
    (exit 2). A restore that does not match its point (here: a point whose checksum was altered) is undone before
    it commits (exit 5, journalled rollback_failed), the point intact; once it is right, recover restores it."""
    result = api_deploy(shop, select="dim_dates")
    context = api_context(shop)
    schema = context.policy.rollback_schema
    before = shop.warehouse.catalog()

    def rewrite(table: str, column: str, found: str, written: str) -> None:
        shop.warehouse.execute(f"update {schema}.{table} set {column} = replace({column}, '{found}', '{written}') "
                               f"where deploy_id = '{result.deploy_id}'")

    for table, column, command in [
        ("steward_rollback_points", "entry", ("rollback", "--deploy-id", result.deploy_id)),
        ("steward_deploys", "record", ("recover",)),
    ]:
        rewrite(table, column, '"format": 2', '"format": 3')
        try:
            refused = shop.cli(*command)
        finally:
            rewrite(table, column, '"format": 3', '"format": 2')
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and "written by a newer steward (format 3" in refused.stderr
        assert shop.warehouse.catalog() == before

    [entry] = result.rollback_point
    deployed = shop.warehouse.contents()
    rewrite("steward_rollback_points", "entry", f'"checksum": "{entry.checksum}"', '"checksum": "1"')
    undone = shop.cli("rollback", "--deploy-id", result.deploy_id)
    assert undone.returncode == 5, undone.stderr
    assert entry.kind == "table"  # its rows are measured on its copy, before the restore changes anything
    assert f"expected {entry.row_count} rows, checksum 1" in undone.stderr and "so it was undone" in undone.stderr
    assert shop.warehouse.contents() == deployed  # as the deploy left it: the restore left nothing behind
    listed = {item.record.deploy_id: item for item in list_deploys(context)}[result.deploy_id]
    assert listed.record.state == "rollback_failed" and listed.rollback_point == "kept"
    rewrite("steward_rollback_points", "entry", '"checksum": "1"', f'"checksum": "{entry.checksum}"')
    recovered = shop.cli("recover")
    assert recovered.returncode == 0 and "1 relation(s) restored to the rollback point" in recovered.stdout


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


@contextmanager
def fewer_orders(project, failing: bool = False) -> Iterator[None]:
    """fct_orders cut to its first ten orders (a deploy with --full-refresh then changes it and
    fct_daily_revenue); with `failing`, a test on it that fails."""
    model = project.directory / "models" / "marts" / "fct_orders.sql"
    test = project.directory / "tests" / "fct_orders_fails.sql"
    original = model.read_text()
    model.write_text(original.rstrip() + "\nwhere order_id <= 1010\n")
    if failing:
        test.parent.mkdir(exist_ok=True)
        test.write_text(FAILING_TEST)
    try:
        yield
    finally:
        model.write_text(original)
        test.unlink(missing_ok=True)


def deploy_breaking_mid_build(project, breaking: Callable[[], None], **options):
    """A deploy of stg_orders+ in full, with `breaking` run once dbt has built stg_orders, in dbt's callback."""
    context = api_context(project)
    done: list[str] = []

    def on_event(event) -> None:
        node = getattr(event.data, "node_info", None)
        if event.info.name == "NodeFinished" and getattr(node, "unique_id", "") == "model.shop.stg_orders" \
                and not done:
            done.append(node.unique_id)
            breaking()

    return deploy(context, DeployOptions(select="stg_orders+", full_refresh=True, **options),
                  DbtInvoker(context.project, quiet=True, callbacks=[on_event]))


def journal_of(project, deploy_id: str):
    """The deploy's record as the warehouse's journal has it."""
    context = api_context(project)
    with opened(context.project.connection) as warehouse:
        return WarehouseJournal(warehouse, context.policy.rollback_schema).records()[deploy_id]


def test_a_journal_that_cannot_be_written_stops_a_deploy_before_it_changes_anything(shop):
    journal = shop.directory / "target" / "steward" / "journal"
    aside = journal.with_name("journal.aside")
    before = shop.warehouse.catalog()
    journal.rename(aside)
    journal.write_text("")  # a file where the journal's directory goes: nothing can be written under it
    try:
        with pytest.raises(StorageFailed) as raised:
            api_deploy(shop, select="stg_products")
    finally:
        journal.unlink()
        aside.rename(journal)
    assert exit_code_for(raised.value) == 7
    assert str(raised.value).startswith(f"cannot write the deploy journal {journal}/")
    assert str(raised.value).endswith("; nothing was changed") and "\n" not in str(raised.value)
    assert shop.warehouse.catalog() == before


@pytest.mark.parametrize("unwritable", ["journal", "report"])
def test_a_journal_or_report_that_cannot_be_written_mid_deploy_undoes_it(shop, unwritable):
    """The disk fills under the journal (its file made /dev/full), or the report's directory cannot be made,
    while dbt builds: the deploy is undone and verified, journalled in the warehouse, exit 7 with one line."""
    before = shop.warehouse.contents()
    steward_dir = shop.directory / "target" / "steward"
    broken: list = []

    def break_it() -> None:
        deploy_id = os.environ["STEWARD_DEPLOY_ID"]
        path = steward_dir / "journal" / f"{deploy_id}.jsonl" if unwritable == "journal" else steward_dir / deploy_id
        if unwritable == "journal":
            path.unlink()
            path.symlink_to("/dev/full")  # writes fail with ENOSPC, as on a full disk
        else:
            path.write_text("")  # a file where the report's directory goes
        broken.append(path)

    try:
        with fewer_orders(shop), pytest.raises(StorageFailed) as raised:
            deploy_breaking_mid_build(shop, break_it)
    finally:
        for path in broken:
            path.unlink()
    message = str(raised.value)
    assert exit_code_for(raised.value) == 7 and "\n" not in message
    what = f"deploy journal {broken[0]}: No space left on device" if unwritable == "journal" else \
        f"report directory {broken[0]}: File exists"
    assert message.startswith(f"cannot write the {what}; deploy "), message
    # Three of the shop's relations, and on PostgreSQL the views outside it that an earlier test made on them.
    assert re.search(r"was undone: \d+ relation\(s\) restored to the rollback point", message), message
    assert shop.warehouse.contents() == before
    record = journal_of(shop, broken[0].stem if unwritable == "journal" else broken[0].name)
    assert [state for state, _ in record.history][-3:] == ["building", "failed", "rolled_back"]


def test_a_connection_dropped_mid_build_fails_the_deploy_clearly_and_restores(shop, adapter):
    """Every session of the deploy is terminated while dbt builds (dbt's, and the one holding the deploy lock):
    the build fails, steward takes the lock again on a new session, restores and verifies; the next deploy runs."""
    if adapter == "duckdb":
        pytest.skip("an embedded DuckDB has no connection to drop")
    from dbt.adapters.factory import FACTORY

    before = shop.warehouse.contents()
    holders = f"{api_context(shop).policy.rollback_schema}.steward_lock_holders"

    def drop_every_session() -> None:
        dbt_connections = FACTORY.adapters["postgres"].connections.thread_connections.values()
        handles = [connection.handle for connection in dbt_connections]
        sessions = [handle.get_backend_pid() for handle in handles if hasattr(handle, "get_backend_pid")]
        sessions += [pid for (pid,) in shop.warehouse.query(f"select backend_pid from {holders}")]
        assert len(sessions) >= 2
        shop.warehouse.query("select pg_terminate_backend(pid) from unnest(%s) as pid", (sessions,))

    with fewer_orders(shop), pytest.raises(DbtFailed) as raised:
        deploy_breaking_mid_build(shop, drop_every_session)
    message = str(raised.value)
    assert "failed (stg_orders: Exception on worker thread. connection already closed)" in message, message
    assert re.search(r"\d+ relation\(s\) restored to the rollback point", message), message
    assert shop.warehouse.contents() == before
    assert api_deploy(shop, select="stg_products").status == "succeeded"


def test_losing_stewards_connection_while_restoring_is_finished_by_recover(shop, adapter, monkeypatch):
    """steward's own session ends inside the restore's transaction: nothing of the restore stays, the deploy stops
    with one line naming `steward recover` (exit 6), and recover restores."""
    if adapter == "duckdb":
        pytest.skip("an embedded DuckDB has no connection to drop")
    before = shop.warehouse.contents()
    monkeypatch.setenv("STEWARD_TEST_FAULT", "disconnect@restore.moved")
    with fewer_orders(shop, failing=True), pytest.raises(ConnectionLost) as raised:
        api_deploy(shop, select="stg_orders+", full_refresh=True)
    monkeypatch.delenv("STEWARD_TEST_FAULT")
    message = str(raised.value)
    assert exit_code_for(raised.value) == 6 and "\n" not in message
    assert f"deploy {list_deploys(api_context(shop))[0].record.deploy_id} stopped: lost the connection to " \
        "PostgreSQL (" in message and "put back, once the warehouse is reachable, by: steward recover" in message
    schema = shop.warehouse.schema_prefix
    assert shop.warehouse.scalar(f"select count(*) from {schema}.fct_orders") == 10  # the failed build, as it was
    recovered = shop.cli("recover")
    assert recovered.returncode == 0, recovered.stderr
    assert re.search(r"\d+ relation\(s\) restored to the rollback point", recovered.stdout), recovered.stdout
    assert shop.warehouse.contents() == before


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


def test_an_attached_catalog_gets_rollback_points_of_its_own_relations(adapter, project_factory):
    """A profile whose `database` is an attached file's alias (as a MotherDuck or attached-catalog user has it):
    steward opens DuckDB as dbt-duckdb does (attach, settings, extensions, then that database), so its rollback
    point holds the attached relations, not the same names in the file the profile's path opens."""
    if adapter == "postgres":
        pytest.skip("attach, extensions and settings are DuckDB's")
    import duckdb

    from steward.dbt.invocation import release_duckdb_file

    project = project_factory("examples/shop", adapter, "shop", label="attached")
    main, lake = project.directory / "warehouse.duckdb", project.directory / "lake.duckdb"
    schema = project.warehouse.schema_prefix
    profiles = project.directory / "profiles.yml"
    profile = yaml.safe_load(profiles.read_text())
    profile["shop"]["outputs"]["ci"].update(database="lake", attach=[{"path": str(lake), "alias": "lake"}],
                                            settings={"max_expression_depth": 250})
    profiles.write_text(yaml.safe_dump(profile))
    with duckdb.connect(str(main)) as decoy:  # the same names in the path's own file: never to be touched
        decoy.execute(f"create schema {schema}; create table {schema}.raw_orders as select 1 as id")
    project.dbt("deps")
    api_deploy(project, select="+stg_orders", exclude="test_name:relationships")

    def counts() -> tuple[int, int]:
        release_duckdb_file()
        with duckdb.connect(str(main)) as connection:
            connection.execute(f"attach '{lake}' as lake")
            return connection.execute(f"select (select count(*) from lake.{schema}.raw_orders), "
                                      f"(select count(*) from warehouse.{schema}.raw_orders)").fetchone()

    seeded, _ = counts()
    release_duckdb_file()
    with duckdb.connect(str(main)) as connection:  # the point must differ from what the seed loads again
        connection.execute(f"attach '{lake}' as lake; delete from lake.{schema}.raw_orders where id > 1010")
    assert counts() == (10, 1) and seeded > 10
    failing = project.directory / "tests" / "stg_orders_fails.sql"
    failing.parent.mkdir(exist_ok=True)
    try:
        failing.write_text("select order_id from {{ ref('stg_orders') }}\n")
        with pytest.raises(DbtFailed, match="verified"):
            api_deploy(project, select="+stg_orders", exclude="test_name:relationships")
    finally:
        failing.unlink()
    assert counts() == (10, 1)  # the attached table is back as it was; the decoy was never touched
    context = api_context(project)
    deploy_id = list_deploys(context)[0].record.deploy_id
    with opened(context.project.connection) as warehouse:
        assert warehouse.scalar("select current_database()") == "lake"
        assert warehouse.scalar("select current_setting('max_expression_depth')") == 250
        point = RollbackStore(warehouse, context.policy.rollback_schema).entries(deploy_id)
    assert {str(entry.relation): entry.row_count for entry in point}[f"{schema}.raw_orders"] == 10
    with pytest.raises(BadInput, match=r"cannot open DuckDB .* as the profile says"), \
            opened(Connection("duckdb", {**context.project.connection.settings, "extensions": ["no_such_extension"]})):
        pass


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
    # A DuckDB deploy can take under a second: wait until the first deploy is surely older than the 1 s
    # retention, whatever the host's speed
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

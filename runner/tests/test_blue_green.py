"""Blue-green deploys of examples/shop on both adapters: stage, audit, publish in one transaction, rollback.

Deploys run in-process through the Python API, as in test_guarded_deploy.py; prod is compared row by row
(harness contents) and by steward's count and checksum. The stage is stage schemas on PostgreSQL and
relations beside prod's, `<name>__steward_stage`, on DuckDB (which cannot move a table between schemas).
"""

from __future__ import annotations

import json
import re
import threading
import time
from io import StringIO

import pytest
import yaml
from harness import pg_settings
from test_guarded_deploy import FAILING_TEST, READER, api_context, api_deploy

from steward.dbt.invocation import DbtInvoker
from steward.dbt.progress import Progress
from steward.deploy import DeployOptions, deploy
from steward.deploy.blue_green import STAGE_SUFFIX
from steward.deploy.recovery import list_deploys, rollback
from steward.errors import BadInput, DbtFailed, exit_code_for
from steward.warehouse import Relation, opened

BLUE_GREEN_HISTORY = ["planned", "locked", "staging", "publishing", "succeeded"]


@pytest.fixture(scope="module")
def shop(adapter, project_factory):
    """examples/shop deployed once in place, so prod exists before any blue-green deploy."""
    project = project_factory("examples/shop", adapter, "shop", label="bluegreen")
    project.dbt("deps")
    api_deploy(project)
    return project


def prod_contents(project) -> dict:
    """Every row of every prod relation (stage schemas, rollback copies and steward's own tables left out)."""
    return {name: rows for name, rows in project.warehouse.contents().items() if STAGE_SUFFIX not in name}


def fingerprint(project, name: str, schema: str | None = None) -> tuple[int, str]:
    with opened(api_context(project).project.connection) as warehouse:
        return warehouse.fingerprint(Relation(schema or project.warehouse.schema_prefix, name))


def stage_traces(project) -> list[str]:
    """Stage schemas, stage relations, and views whose text names a stage relation: none after a publish."""
    like = "%s" if project.adapter == "postgres" else "?"
    prefix = (project.warehouse.schema_prefix + "%",)
    names = [s for s in project.warehouse.schemas() if STAGE_SUFFIX in s]
    names += [f"{schema}.{name}" for schema, name in project.warehouse.query(
        f"select table_schema, table_name from information_schema.tables where table_schema like {like}", prefix)
        if STAGE_SUFFIX in name]
    views = project.warehouse.query(
        f"select schemaname, viewname, definition from pg_views where schemaname like {like}"
        if project.adapter == "postgres" else
        f"select schema_name, view_name, sql from duckdb_views() where schema_name like {like}", prefix)
    names += [f"view {schema}.{name} selects from the stage" for schema, name, sql in views if STAGE_SUFFIX in sql]
    return names


def staged(project, name: str) -> tuple[str, str]:
    """(schema, name) where a deploy stages a relation of the project's schema."""
    schema = project.warehouse.schema_prefix
    if project.adapter == "duckdb":
        return schema, f"{name}{STAGE_SUFFIX}"
    return f"{schema}{STAGE_SUFFIX}", name


class edited:
    """Replace a file's text for the duration of a with block (a new file is removed after)."""

    def __init__(self, path, text: str) -> None:
        self.path, self.text = path, text

    def __enter__(self):
        self.original = self.path.read_text() if self.path.exists() else None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.text)
        return self

    def __exit__(self, *exc) -> None:
        if self.original is None:
            self.path.unlink()
        else:
            self.path.write_text(self.original)


def limited(path, rows: int) -> str:
    return path.read_text().rstrip().rstrip(";") + f"\nlimit {rows}\n"


def recorded_run(project, deploy_id: str) -> tuple[list[tuple], dict[str, str], int]:
    """What prod's audit tables hold of a deploy: its invocations (command, status, nodes), the node results
    of its stage build (statuses by unique id) and how many row counts that build recorded."""
    schema = project.warehouse.schema_prefix
    like = "%s" if project.adapter == "postgres" else "?"
    invocations = project.warehouse.query(
        f"select command, status, nodes from {schema}.steward_invocations where deploy_id = {like} order by 1",
        (deploy_id,))
    joined = (f"join {schema}.steward_invocations i on i.invocation_id = r.invocation_id "
              f"where i.deploy_id = {like} and i.command = 'build'")
    results = {unique_id: status for unique_id, status in project.warehouse.query(
        f"select r.unique_id, r.status from {schema}.steward_node_results r {joined}", (deploy_id,))}
    [(metrics,)] = project.warehouse.query(f"select count(*) from {schema}.steward_metrics r {joined}", (deploy_id,))
    return invocations, results, metrics


def test_blue_green_publishes_what_an_in_place_deploy_builds(shop):
    api_deploy(shop)
    in_place = prod_contents(shop)
    lineage = f"{shop.warehouse.schema_prefix}.steward_lineage"
    edges = shop.warehouse.scalar(f"select count(*) from {lineage}")
    shop.warehouse.execute(f"drop table {lineage}")  # only the refresh after the publish can bring it back
    shown = StringIO()
    progress = Progress(shown, live=False)
    context = api_context(shop)
    result = deploy(context, DeployOptions(strategy="blue-green"),
                    DbtInvoker(context.project, quiet=True, callbacks=[progress], on_step=progress.step))
    assert result.status == "succeeded" and result.record.strategy == "blue-green"
    assert [state for state, _ in result.record.history] == BLUE_GREEN_HISTORY
    assert prod_contents(shop) == in_place
    assert stage_traces(shop) == []
    # Every published relation has a rollback entry holding what prod had before.
    assert {str(e.relation) for e in result.rollback_point if not e.external} == set(result.record.relations)
    # The stage build's run is on record in prod's audit tables, under the deploy's id.
    # The stage build's run is on record in prod's audit tables under the deploy's id. Lineage and scorecard
    # never go through the stage: they are rebuilt in prod after the publish, by a run not recorded itself.
    [build], results, metrics = recorded_run(shop, result.deploy_id)
    built = [node for node in result.outcome.nodes if not node.unique_id.startswith("operation.")]  # hooks aside
    assert build == ("build", "success", len(built)) and len(built) == len(results)
    assert results["model.shop.fct_orders"] == "success" and metrics > 0
    assert "model.steward.steward_lineage" not in results
    assert shop.warehouse.scalar(f"select count(*) from {lineage}") == edges > 0
    # Live progress never counts past its total: the refresh after the publish is a step of its own.
    build, refresh = shown.getvalue().split("steward: refreshing steward's lineage and scorecard in prod after "
                                             "the publish\n")
    counted = [re.findall(r"^\[\s*(\d+)/(\d+)\]", part, re.MULTILINE) for part in (build, refresh)]
    assert [(int(done), int(total)) for done, total in counted[0]][-1] == (len(built), len(built))
    assert counted[1] == [("1", "2"), ("2", "2")], refresh
    # The deploy's report is the stage build's, not the refresh's.
    report = json.loads((result.report_dir / "report.json").read_text())
    assert {node["unique_id"] for node in report["nodes"]} == {node.unique_id for node in built}


def test_a_failing_test_leaves_prod_untouched_and_the_stage_kept_or_dropped(shop):
    before = prod_contents(shop)
    orders = fingerprint(shop, "fct_orders")
    with edited(shop.directory / "tests" / "fct_orders_fails.sql", FAILING_TEST):
        with pytest.raises(DbtFailed) as kept:
            api_deploy(shop, strategy="blue-green", keep_stage=True)
        assert exit_code_for(kept.value) == 1
        assert "prod is untouched" in str(kept.value) and "stage kept" in str(kept.value)
        assert prod_contents(shop) == before and fingerprint(shop, "fct_orders") == orders
        stage_schema, stage_orders = staged(shop, "fct_orders")
        # DuckDB keeps its stage beside prod: no stage schema there.
        assert [s for s in shop.warehouse.schemas() if STAGE_SUFFIX in s] == (
            [stage_schema] if shop.adapter == "postgres" else [])
        # The rejected build's incremental fct_orders started from prod's rows.
        assert fingerprint(shop, stage_orders, schema=stage_schema) == orders
        listing = list_deploys(api_context(shop))[0]
        latest = listing.record
        assert latest.state == "rejected" and listing.rollback_point == "none"
        assert [state for state, _ in latest.history] == ["planned", "locked", "staging", "rejected"]
        # A rejected deploy is on record too, with the test that failed it, and marked rejected, which keeps its
        # results (about data prod never held) out of the quality scorecard.
        [(command, status, _), mark], results, metrics = recorded_run(shop, latest.deploy_id)
        assert (command, status) == ("build", "failed") and results["test.shop.fct_orders_fails"] == "fail"
        assert mark == ("steward", "rejected", 0)
        assert metrics == 0  # its staged tables were never published: no row counts to learn from

        with pytest.raises(DbtFailed, match="stage dropped"):
            api_deploy(shop, strategy="blue-green")
    assert prod_contents(shop) == before and fingerprint(shop, "fct_orders") == orders
    assert stage_traces(shop) == []


def test_unselected_refs_resolve_to_prod_and_incrementals_start_from_prod(shop):
    schema = shop.warehouse.schema_prefix
    orders = f"{schema}.fct_orders"
    with opened(api_context(shop).project.connection) as warehouse:
        columns = [name for name, _ in warehouse.columns(Relation(schema, "fct_orders"))]
    # A row only prod has: the model would never build it, so it shows where the stage read from.
    chosen = ", ".join("order_id + 100000" if c == "order_id" else c for c in columns)
    shop.warehouse.execute(f"insert into {orders} ({', '.join(columns)}) select {chosen} from {orders} "
                           f"where order_id = (select min(order_id) from {orders})")
    prod_orders = shop.warehouse.scalar(f"select count(*) from {orders}")
    try:
        result = api_deploy(shop, strategy="blue-green", select="fct_daily_revenue")
        assert [str(r) for r in result.plan.relations] == [f"{schema}.fct_daily_revenue"]
        assert shop.warehouse.scalar(f"select sum(order_count) from {schema}.fct_daily_revenue") == prod_orders

        result = api_deploy(shop, strategy="blue-green", select="fct_orders")
        assert result.status == "succeeded"
        assert shop.warehouse.scalar(f"select count(*) from {orders} where order_id > 100000") == 1
        assert shop.warehouse.scalar(f"select count(*) from {orders}") == prod_orders
    finally:
        api_deploy(shop, select="fct_orders+", full_refresh=True)
    assert shop.warehouse.scalar(f"select count(*) from {orders} where order_id > 100000") == 0


def test_rollback_of_a_blue_green_deploy_is_the_reverse_swap(shop):
    """Views, seeds and tables published from the policy's strategy, then rolled back and verified."""
    policy = shop.directory / "steward.yml"
    settings = yaml.safe_load(policy.read_text())
    staging = shop.directory / "models" / "staging" / "stg_products.sql"
    consumer = f"{shop.warehouse.schema_prefix}_consumers"
    shop.warehouse.execute(f"create schema if not exists {consumer}")
    shop.warehouse.execute(f"create or replace view {consumer}.products as "
                           f"select * from {shop.warehouse.schema_prefix}.dim_products")
    products = shop.warehouse.scalar(f"select count(*) from {consumer}.products")
    before = prod_contents(shop)
    with edited(policy, yaml.safe_dump({**settings, "deploy": {"strategy": "blue-green"}})), \
            edited(staging, staging.read_text().replace("name as product_name", "upper(name) as product_name")):
        result = api_deploy(shop, select="+stg_products+")
    assert result.record.strategy == "blue-green" and result.status == "succeeded"
    assert prod_contents(shop) != before
    # The consumer's view follows the published dim_products.
    assert shop.warehouse.scalar(f"select count(*) from {consumer}.products "
                                 "where product_name <> upper(product_name)") == 0
    assert shop.warehouse.scalar(f"select count(*) from {consumer}.products") == products

    undone = rollback(api_context(shop), result.deploy_id)
    assert undone.record.state == "rolled_back" and not undone.mismatches
    assert prod_contents(shop) == before
    assert shop.warehouse.scalar(f"select count(*) from {consumer}.products "
                                 "where product_name <> upper(product_name)") > 0
    shop.warehouse.execute(f"drop view {consumer}.products")


def test_grants_follow_a_blue_green_publish_and_its_rollback(shop):
    """A published view grants what dbt granted its staged one (the model's grants config), an outside view
    steward recreates what it granted before; a rollback brings back what prod granted."""
    if shop.adapter == "duckdb":
        pytest.skip("DuckDB has no roles or privileges")
    schema = shop.warehouse.schema_prefix
    consumer = f"{schema}_consumers"
    view = f"{consumer}.product_names"
    granted = [f"{schema}.stg_products", f"{schema}.dim_products", view]
    shop.warehouse.execute(f"do $$ begin create role {READER}; exception when duplicate_object then null; end $$")
    shop.warehouse.execute(f"create schema if not exists {consumer}")
    shop.warehouse.execute(f"create or replace view {view} as select product_name from {schema}.dim_products")
    shop.warehouse.execute(f"comment on view {view} is 'Product names'")

    def readable() -> dict[str, bool]:
        return {relation: shop.warehouse.scalar(f"select has_table_privilege('{READER}', '{relation}', 'select')")
                for relation in granted}

    policy = shop.directory / "steward.yml"
    settings = yaml.safe_load(policy.read_text())
    staging = shop.directory / "models" / "staging" / "stg_products.sql"
    try:
        for relation in granted:
            shop.warehouse.execute(f"grant select on {relation} to {READER}")
        with edited(policy, yaml.safe_dump({**settings, "deploy": {"strategy": "blue-green"}})), \
                edited(staging, f"{{{{ config(grants={{'select': ['{READER}']}}) }}}}\n" + staging.read_text()):
            result = api_deploy(shop, select="+stg_products+")
        assert result.status == "succeeded"
        # dim_products is the staged table, built without a grants config: dbt granted nothing on it.
        assert readable() == {f"{schema}.stg_products": True, f"{schema}.dim_products": False, view: True}
        assert shop.warehouse.scalar(f"select obj_description('{view}'::regclass, 'pg_class')") == "Product names"
        undone = rollback(api_context(shop), result.deploy_id)
        assert undone.record.state == "rolled_back" and not undone.mismatches
        assert readable() == dict.fromkeys(granted, True)
    finally:
        shop.warehouse.execute(f"drop view if exists {view}")
        for relation in granted[:-1]:
            shop.warehouse.execute(f"revoke all on {relation} from {READER}")


def test_a_reader_sees_the_old_set_or_the_new_set_never_a_mix(shop):
    if shop.adapter != "postgres":
        pytest.skip("DuckDB admits one writing process: no reader runs beside a deploy")
    import psycopg2

    schema = shop.warehouse.schema_prefix
    probe = (f"select (select count(*) from {schema}.fct_daily_revenue), "
             f"(select count(*) from {schema}.dim_products)")
    old = tuple(shop.warehouse.query(probe)[0])
    seen: list[tuple] = []
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        connection = psycopg2.connect(**pg_settings())
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not stop.is_set():
                try:
                    cursor.execute(probe)
                    seen.append(tuple(cursor.fetchone()))
                except psycopg2.Error as exc:  # a deadlock broken against the reader: read again
                    errors.append(exc.pgcode)
        connection.close()

    revenue = shop.directory / "models" / "marts" / "fct_daily_revenue.sql"
    products = shop.directory / "models" / "marts" / "dim_products.sql"
    reader = threading.Thread(target=read)
    reader.start()
    try:
        with edited(revenue, limited(revenue, 2)), edited(products, limited(products, 2)):
            result = api_deploy(shop, strategy="blue-green", select="fct_daily_revenue dim_products")
        time.sleep(0.3)
    finally:
        stop.set()
        reader.join()
    new = (2, 2)
    assert result.status == "succeeded" and old != new
    assert set(seen) <= {old, new}, f"mixed reads: {set(seen) - {old, new}}"
    assert old in seen and new in seen and len(seen) > 20
    assert set(errors) <= {"40P01"}
    rollback(api_context(shop), result.deploy_id)
    assert tuple(shop.warehouse.query(probe)[0]) == old


def test_published_views_name_prod_relations_and_rollback_restores_counts_and_checksums(shop):
    """A staged view selecting from a staged seed selects from the seed's prod name once published."""
    names = ["raw_products", "stg_products", "dim_products"]
    before = {name: fingerprint(shop, name) for name in names}
    schema = shop.warehouse.schema_prefix
    staging = shop.directory / "models" / "staging" / "stg_products.sql"
    with edited(staging, staging.read_text().replace("name as product_name", "upper(name) as product_name")):
        result = api_deploy(shop, strategy="blue-green", select="+stg_products+")
    assert result.status == "succeeded"
    assert stage_traces(shop) == []
    with opened(api_context(shop).project.connection) as warehouse:
        assert "raw_products" in warehouse.view_definition(Relation(schema, "stg_products"))
    assert shop.warehouse.scalar(f"select count(*) from {schema}.stg_products") == \
        shop.warehouse.scalar(f"select count(*) from {schema}.raw_products") > 0
    assert shop.warehouse.scalar(f"select count(*) from {schema}.stg_products "
                                 "where product_name <> upper(product_name)") == 0
    assert fingerprint(shop, "stg_products") != before["stg_products"]

    undone = rollback(api_context(shop), result.deploy_id)
    assert undone.record.state == "rolled_back" and not undone.mismatches
    assert {name: fingerprint(shop, name) for name in names} == before
    assert stage_traces(shop) == []


def test_the_stage_build_reuses_the_deploys_parse(shop):
    """No second profile, no second parse: the stage is the deploy's manifest renamed, and prod's parse
    stays partial from one blue-green deploy to the next."""
    log = shop.directory / "logs" / "dbt.log"
    api_deploy(shop, strategy="blue-green", select="dim_products")
    start = log.stat().st_size
    result = api_deploy(shop, strategy="blue-green", select="dim_products")
    with log.open("rb") as handle:
        handle.seek(start)
        text = handle.read().decode(errors="replace")
    assert result.status == "succeeded"
    assert "Unable to do partial parsing" not in text
    # The deploy parsed once, and that parse was dbt's partial one.
    assert text.count("Command `cli parse` succeeded") == 1 and "Partial parsing enabled" in text
    # Every dbt invocation (the stage build included) read the project's own profiles.yml.
    invocations = re.findall(r"'profiles_dir': '([^']*)'", text)
    assert len(invocations) >= 2 and set(invocations) == {str(shop.directory)}


def test_a_stage_name_the_project_uses_is_refused(shop):
    """A relation of the project where dim_products would be staged: refused before anything is built."""
    if shop.adapter == "duckdb":
        settings = "alias='dim_products__steward_stage'"
    else:  # dbt's default naming puts custom schema '_steward_stage' at <schema>__steward_stage
        settings = "schema='_steward_stage', alias='dim_products'"
    before = shop.warehouse.catalog()
    collider = shop.directory / "models" / "marts" / "collider.sql"
    with edited(collider, f"{{{{ config(materialized='view', {settings}) }}}}\nselect 1 as one\n"), \
            pytest.raises(BadInput, match="which is a relation of the project") as refused:
        api_deploy(shop, strategy="blue-green", select="dim_products")
    assert exit_code_for(refused.value) == 2
    assert shop.warehouse.catalog() == before


GENERATE_SCHEMA_NAME = """{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
"""


def test_a_project_with_its_own_generate_schema_name_needs_no_change(adapter, project_factory):
    """A generate_schema_name that uses custom schemas as they are: the runner stages what it names, as it is."""
    project = project_factory("examples/shop", adapter, "shop", label="own_schema_names")
    marts = f"{project.warehouse.schema_prefix}_marts"
    settings_file = project.directory / "dbt_project.yml"
    settings = yaml.safe_load(settings_file.read_text())
    settings["models"]["shop"]["marts"]["+schema"] = marts
    settings_file.write_text(yaml.safe_dump(settings, sort_keys=False))
    (project.directory / "macros" / "generate_schema_name.sql").write_text(GENERATE_SCHEMA_NAME)
    project.dbt("deps")
    api_deploy(project)
    in_place = prod_contents(project)
    assert f"{marts}.fct_orders" in in_place

    result = api_deploy(project, strategy="blue-green")
    assert result.status == "succeeded"
    assert f"{marts}.fct_orders" in result.record.relations
    assert prod_contents(project) == in_place
    assert stage_traces(project) == []


def test_a_bad_strategy_is_refused_in_one_line(shop):
    before = shop.warehouse.catalog()
    completed = shop.cli("deploy", "--target", "ci", "--strategy", "purple")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "steward: error: --strategy: must be one of in-place, blue-green, got 'purple'"]
    assert shop.warehouse.catalog() == before

"""Checkpointed backfills of examples/shop's fct_orders (steward.incremental_window): a run killed part-way
and resumed gives the same table as an uninterrupted one, and no completed batch runs again. (A killed backfill
undone by `steward recover` instead: below.)"""

from __future__ import annotations

from collections import Counter

import pytest
from harness import steward_killed_at
from test_deploy_processes import killed_deploy, recover_twice
from test_guarded_deploy import api_context, api_deploy

from steward.dbt.invocation import DbtInvoker, release_duckdb_file
from steward.deploy.backfill import BackfillOptions, LocalCheckpoints, backfill
from steward.deploy.recovery import list_deploys
from steward.errors import BadInput
from steward.warehouse import Relation, opened

WINDOW = ("--start", "2024-02-28", "--end", "2024-03-04", "--batch-size", "day")  # five batches


# Monthly batches: a first build runs every batch from `begin` to today, one statement each.
# dbt-postgres's microbatch needs a unique_key and dbt-duckdb's refuses one; both replace by event time.
MICROBATCH_MODEL = """{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='loaded_at',
          batch_size='month', begin='2024-02-01',
          unique_key=('order_id' if target.type == 'postgres' else none)) }}
select order_id, customer_id, order_status, loaded_at from {{ ref('stg_orders') }}
"""


@pytest.fixture(scope="module")
def backfill_shop(adapter, project_factory):
    project = project_factory("examples/shop", adapter, "shop", label="backfill")
    staging = project.directory / "models" / "staging" / "stg_orders.sql"
    staging.write_text("{{ config(event_time='loaded_at') }}\n" + staging.read_text())
    (project.directory / "models" / "marts" / "orders_microbatch.sql").write_text(MICROBATCH_MODEL)
    project.dbt("deps")
    assert api_deploy(project).status == "succeeded"
    return project


def fingerprint(project, model: str = "fct_orders") -> tuple[int, str]:
    context = api_context(project)
    with opened(context.project.connection) as warehouse:
        return warehouse.fingerprint(Relation(project.warehouse.schema_prefix, model))


def checkpoints(project, backfill_id: str):
    found = LocalCheckpoints(project.directory / "target" / "steward" / "backfills").read()
    return [c for c in found if c.backfill_id == backfill_id]


def test_killed_backfill_resumes_to_the_same_table_without_rerunning_done_batches(backfill_shop):
    shop = backfill_shop
    context = api_context(shop)
    options = BackfillOptions("fct_orders", WINDOW[1], WINDOW[3], "day")
    reference = backfill(context, options, DbtInvoker(context.project, quiet=True))
    assert len(reference.ran) == 5
    expected = fingerprint(shop)
    release_duckdb_file()

    # Lose the window's rows, so the backfill has to put them back.
    schema = shop.warehouse.schema_prefix
    shop.warehouse.execute(f"delete from {schema}.fct_orders where loaded_at >= '2024-02-28' "
                           "and loaded_at < '2024-03-04'")
    assert fingerprint(shop) != expected

    run = steward_killed_at(shop, "kill@backfill.batch-done:2", "backfill", "--select", "fct_orders", *WINDOW)
    assert run.killed, run.output[-3000:]
    [killed_id] = {c.backfill_id for c in LocalCheckpoints(shop.directory / "target" / "steward" / "backfills").read()
                   if c.event == "started" and c.backfill_id != reference.backfill_id}
    done_before = {c.batch_start for c in checkpoints(shop, killed_id) if c.event == "batch_done"}
    assert len(done_before) == 2  # killed after its second batch
    # A kill between the local checkpoint and the warehouse's leaves a batch done only locally:
    # made certain here by removing the warehouse's record of the first done batch.
    first_done = min(done_before)
    with opened(context.project.connection) as warehouse:
        warehouse.execute(f"delete from {schema}_steward_rollback.steward_backfill_batches where backfill_id = "
                          f"{warehouse.param} and event = 'batch_done' and batch_start = {warehouse.param}",
                          (killed_id, first_done))

    # Killed, the backfill waits for a person: other commands refuse (exit 6, below); --resume goes on.
    resumed = shop.cli("backfill", "--select", "fct_orders", *WINDOW, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("already done; skipped") == len(done_before)
    assert f"{5 - len(done_before)} batch(es) run" in resumed.stdout
    assert fingerprint(shop) == expected
    [record] = [item.record for item in list_deploys(context) if item.record.deploy_id == killed_id]
    assert [state for state, _ in record.history] == ["planned", "backfilling", "backfilling", "succeeded"]

    events = checkpoints(shop, killed_id)
    starts = Counter(c.batch_start for c in events if c.event == "batch_started")
    assert all(starts[batch] == 1 for batch in done_before)  # no completed batch ran again
    assert Counter(c.batch_start for c in events if c.event == "batch_done") == Counter(
        {c.batch_start: 1 for c in events if c.event == "batch_done"})
    assert len({c.batch_start for c in events if c.event == "batch_done"}) == 5
    assert events[-1].event == "finished"
    with opened(context.project.connection) as warehouse:
        remote = warehouse.query(
            f"select count(*) from {schema}_steward_rollback.steward_backfill_batches "
            f"where backfill_id = {warehouse.param} and event = 'batch_done'", (killed_id,))
    assert remote[0][0] == 5


def test_a_killed_backfill_waits_for_a_person_and_recover_undoes_it(backfill_shop):
    """kill -9 after its second batch: every other command refuses (exit 6) and names both ways on; `steward
    recover` restores the backfill's rollback point, every batch undone, and `--resume` then refuses to continue
    what was undone (exit 2)."""
    shop = backfill_shop
    schema = shop.warehouse.schema_prefix
    window = "loaded_at >= '2024-02-28' and loaded_at < '2024-03-04'"
    # The backfill puts back rows taken out of its window, so its rollback point and its batches differ.
    shop.warehouse.execute(f"create table {schema}.orders_aside as select * from {schema}.fct_orders where {window}")
    shop.warehouse.execute(f"delete from {schema}.fct_orders where {window}")
    command = ("backfill", "--select", "fct_orders", *WINDOW)
    try:
        before = shop.warehouse.contents()
        record = killed_deploy(shop, steward_killed_at(shop, "kill@backfill.batch-done:2", *command))
        assert record.state == "backfilling" and shop.warehouse.contents() != before
        blocked = shop.cli("rollback", "--last")
        assert blocked.returncode == 6, blocked.stderr
        assert f"backfill {record.deploy_id} of fct_orders was interrupted; undo it with: steward recover" \
            in blocked.stderr
        assert "continue it: steward backfill --select fct_orders --start '2024-02-28' --end '2024-03-04' " \
            "--batch-size day --resume" in blocked.stderr

        after = recover_twice(shop, record, before)
        assert after.state == "rolled_back" and after.detail.startswith("1 relation(s) restored"), after.detail
        resumed = shop.cli(*command, "--resume")
        assert resumed.returncode == 2 and f"backfill {record.deploy_id}" in resumed.stderr \
            and "was undone" in resumed.stderr, resumed.stderr
        assert shop.warehouse.contents() == before
    finally:
        shop.warehouse.execute(f"insert into {schema}.fct_orders select * from {schema}.orders_aside")
        shop.warehouse.execute(f"drop table {schema}.orders_aside")


def test_backfill_dry_run_and_bad_input_change_nothing(backfill_shop):
    context = api_context(backfill_shop)
    invoker = DbtInvoker(context.project, quiet=True)
    before = backfill_shop.warehouse.catalog()
    plan = backfill(context, BackfillOptions("fct_orders", "2024-01-30", "2024-04-02", "month", dry_run=True),
                    invoker)
    assert [b.describe() for b in plan.batches] == [
        "[2024-01-30 00:00:00, 2024-02-29 00:00:00)", "[2024-02-29 00:00:00, 2024-03-29 00:00:00)",
        "[2024-03-29 00:00:00, 2024-04-02 00:00:00)"]
    for options, message in [
        (BackfillOptions("dim_products", "2024-01-01", "2024-01-02"), "neither steward.incremental_window"),
        (BackfillOptions("fct_orders", "2024-01-02", "2024-01-01"), "must be after --start"),
        (BackfillOptions("fct_orders", "yesterday", "2024-01-01"), "--start: 'yesterday'"),
        (BackfillOptions("fct_orders", "2024-01-01", "2024-01-02", "fortnight"), "--batch-size"),
        (BackfillOptions("fct_orders", "2024-01-01", "2024-01-02", resume=True), "no unfinished backfill"),
    ]:
        with pytest.raises(BadInput, match=message):
            backfill(context, options, invoker)
    assert backfill_shop.warehouse.catalog() == before


def test_microbatch_model_is_backfilled_through_event_time_flags(backfill_shop):
    shop = backfill_shop
    expected = fingerprint(shop, "orders_microbatch")
    shop.warehouse.execute(f"delete from {shop.warehouse.schema_prefix}.orders_microbatch "
                           "where loaded_at >= '2024-02-28' and loaded_at < '2024-03-02'")
    assert fingerprint(shop, "orders_microbatch") != expected
    context = api_context(shop)
    result = backfill(context, BackfillOptions("orders_microbatch", "2024-02-28", "2024-03-02", "day"),
                      DbtInvoker(context.project, quiet=True))
    assert result.target.mode == "microbatch" and len(result.ran) == 3
    assert fingerprint(shop, "orders_microbatch") == expected

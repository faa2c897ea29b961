"""`steward deploy` builds examples/shop through the runner and reports where its report is."""

from __future__ import annotations

import json
import re
from pathlib import Path


def test_deploy_builds_the_shop_and_writes_reports(shop_project):
    done = shop_project.cli("deploy")
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"^Deployed \d+ nodes: \d+ models, \d+ seeds, plus \d+ of package steward \(\d+ rows\) "
                     r"to ci in \S+; tests (\d+)/\1 passed; "
                     r"quality score 100/100; rollback point kept until \S+\.$", done.stdout, re.MULTILINE), \
        done.stdout[-2000:]
    match = re.search(r"Reports in (\S+)/: ", done.stdout)
    assert match, done.stdout[-2000:]
    report = json.loads((Path(match.group(1)) / "report.json").read_text())
    assert report["status"] == "succeeded"
    assert report["project"] == "shop"
    statuses = {node["unique_id"]: node["status"] for node in report["nodes"]}
    assert statuses["model.shop.fct_orders"] == "success"
    assert all(status in ("success", "pass", "no-op") for status in statuses.values()), statuses
    schema = shop_project.warehouse.schema_prefix
    assert shop_project.warehouse.scalar(f"select count(*) from {schema}.fct_orders") > 0


def test_dry_run_lists_the_plan_and_changes_nothing(shop_project):
    before = shop_project.warehouse.catalog()
    done = shop_project.cli("deploy", "--dry-run", "--select", "+fct_orders")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model.shop.fct_orders" in done.stdout and "model.shop.stg_orders" in done.stdout
    assert "model.shop.fct_daily_revenue" not in done.stdout
    assert shop_project.warehouse.catalog() == before


def test_bad_selection_is_refused_before_dbt_runs(shop_project):
    before = shop_project.warehouse.catalog()
    done = shop_project.cli("deploy", "--select", "fct_orders;drop")
    assert done.returncode == 2
    assert done.stderr.strip() == "steward: error: --select: 'fct_orders;drop' is not a valid selection term"
    assert shop_project.warehouse.catalog() == before


def test_deploys_and_plain_dbt_runs_do_not_make_each_other_reparse(shop_project):
    """dbt hashes its --target argument into the parse state: a deploy that passed the resolved default
    target would make every plain `dbt build` after it re-parse the whole project, and back. A deploy also
    switches run recording on, which changes what dbt parses: with one shared parse state, deploys and plain
    runs would re-parse the files the switch touches whenever they alternate."""
    from dbt.cli.main import dbtRunner

    directory = str(shop_project.directory)
    plain_parse = ["parse", "--project-dir", directory, "--profiles-dir", directory]
    assert dbtRunner().invoke(plain_parse).success
    log = shop_project.directory / "logs" / "dbt.log"

    def parsing_during(action) -> list[str]:
        """How dbt parsed during `action`: 'full', or what its partial parse found changed."""
        start = log.stat().st_size
        action()
        with log.open() as handle:
            handle.seek(start)
            lines = handle.read().splitlines()
        verdicts = ["full" for line in lines if "Unable to do partial parsing" in line]
        marker = "Partial parsing enabled: "
        verdicts += [line.split(marker)[1] for line in lines if marker in line]
        return verdicts

    def deploy() -> None:  # one small model: what is parsed does not depend on what is built
        done = shop_project.cli("deploy", "--select", "stg_orders")
        assert done.returncode == 0, done.stderr[-2000:]

    unchanged = ["0 files deleted, 0 files added, 0 files changed."]
    first = parsing_during(deploy)
    assert len(first) == 1 and first != ["full"], first
    assert parsing_during(lambda: dbtRunner().invoke(plain_parse)) == unchanged
    assert parsing_during(deploy) == unchanged
    assert parsing_during(lambda: dbtRunner().invoke(plain_parse)) == unchanged

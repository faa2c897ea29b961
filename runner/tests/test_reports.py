"""Reports of real deploys of examples/shop: every format from one good and one failing deploy per adapter.

The good deploy builds the shop plus `report_probe`, a model carrying steward tests of two quality
dimensions; the failing deploy adds a validity test that fails on known rows, so it is rolled back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from io import BytesIO, StringIO
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from harness import REPO_ROOT, SENTINEL_PASSWORD, CliResult, DbtProject
from PIL import Image

from steward.config.context import open_context
from steward.dbt.invocation import DbtInvoker
from steward.dbt.progress import Progress
from steward.reports.collect import collect
from steward.reports.quality import from_table
from steward.warehouse import opened

FORMAT_FILES = {"console": "report.txt", "markdown": "report.md", "junit": "report.xml", "json": "report.json",
                "html": "report.html"}
PROBE_SQL = "select order_id, customer_id from {{ ref('fct_orders') }}\n"
PROBE_YML = """version: 2
models:
  - name: report_probe
    data_tests:
      - steward.not_empty
    columns:
      - name: order_id
        data_tests:
          - steward.accepted_range:
              arguments: {min_value: 0}
"""
FAILING_TEST = """
          - steward.accepted_range:
              name: report_probe_order_id_at_most_10
              arguments: {max_value: 10}
"""
JUNIT_XSD = Path(__file__).parent / "schemas" / "junit.xsd"
JSON_SCHEMA = REPO_ROOT / "docs" / "report.schema.json"


@dataclass
class Deploy:
    done: CliResult
    directory: Path

    def read(self, fmt: str) -> str:
        return (self.directory / FORMAT_FILES[fmt]).read_text()

    def json(self) -> dict:
        return json.loads(self.read("json"))


@dataclass
class Reported:
    project: DbtProject
    good: Deploy
    failed: Deploy


def deploy_dir(project: DbtProject, done: CliResult) -> Path:
    match = re.search(r"Reports in (\S+)/: report\.html", done.stdout) or re.search(
        r"report: (\S+)$", done.stderr.strip())
    assert match, done.stdout[-2000:] + done.stderr[-2000:]
    return Path(match.group(1))


@pytest.fixture(scope="module")
def reported(adapter, project_factory) -> Reported:
    project = project_factory("examples/shop", adapter, "shop", label="reports")
    project.dbt("deps")
    marts = project.directory / "models" / "marts"
    (marts / "report_probe.sql").write_text(PROBE_SQL)
    probe_yml = marts / "_report_probe.yml"
    probe_yml.write_text(PROBE_YML)
    good = project.cli("deploy")
    assert good.returncode == 0, good.stderr[-3000:]
    probe_yml.write_text(PROBE_YML + FAILING_TEST)
    try:
        failed = project.cli("deploy")
    finally:
        probe_yml.write_text(PROBE_YML)
    assert failed.returncode == 1, failed.stderr[-3000:]
    return Reported(project, Deploy(good, deploy_dir(project, good)), Deploy(failed, deploy_dir(project, failed)))


def run_results(deploy: Deploy) -> dict:
    return json.loads((deploy.directory / "run_results.json").read_text())


def expected_failing_rows(project: DbtProject) -> int:
    return project.warehouse.scalar(
        f"select count(*) from {project.warehouse.schema_prefix}.fct_orders where order_id > 10")


# --- the deploy's own output --------------------------------------------------------------------

def test_deploy_prints_the_closing_line_and_where_every_format_is(reported):
    out = reported.good.done.stdout
    line = re.search(r"^Deployed (\d+) nodes: (\d+) models, (\d+) seeds, plus (\d+) of package steward "
                     r"\((\d+) rows\) to ci in \S+; tests (\d+)/(\d+) passed; "
                     r"quality score 100/100; rollback point kept until (\S+)\.$", out, re.MULTILINE)
    assert line, out[-2000:]
    results = run_results(reported.good)["results"]
    built = [r["unique_id"].split(".")[:2] for r in results if r["status"] == "success"]
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    # What it is: the shop's own models and seeds, and steward's nodes apart.
    assert int(line.group(2)) == built.count(["model", "shop"]) > 0
    assert int(line.group(3)) == built.count(["seed", "shop"]) > 0
    assert int(line.group(1)) == int(line.group(2)) + int(line.group(3))
    assert int(line.group(4)) == sum(1 for kind, package in built
                                     if package == "steward" and kind in ("model", "seed", "snapshot")) > 0
    assert int(line.group(6)) == int(line.group(7)) == len(tests)
    document = reported.good.json()
    assert document["summary"]["nodes_built"] == {"models": int(line.group(2)), "seeds": int(line.group(3)),
                                                  "snapshots": 0, "packages": {"steward": int(line.group(4))}}
    assert line.group(8) == document["deploy"]["kept_until"]
    assert line.group(0) == document["closing_line"]
    assert sorted(p.name for p in reported.good.directory.glob("report.*")) == sorted(FORMAT_FILES.values())


def test_progress_is_one_plain_line_per_node_when_not_a_terminal(reported):
    err = reported.good.done.stderr
    assert "\r" not in err and "\x1b[" not in err
    lines = re.findall(r"^\[\s*(\d+)/(\d+)\] (\S+)\s+(\S+) .*?(\d+\.\d\d)s \| (\d+) ok, (\d+) not ok \| [\d.]+s$",
                       err, re.MULTILINE)
    nodes = reported.good.json()["nodes"]
    assert sorted(line[3] for line in lines) == sorted(n["unique_id"] for n in nodes)
    assert [int(index) for index, *_ in lines] == list(range(1, len(nodes) + 1))
    assert {int(total) for _, total, *_ in lines} == {len(nodes)}
    statuses = {unique_id: status for _, _, status, unique_id, *_ in lines}
    assert statuses == {n["unique_id"]: n["status"] for n in nodes}


# --- json -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["good", "failed"])
def test_json_follows_the_documented_schema_and_the_run_results(reported, which):
    deploy = getattr(reported, which)
    document = deploy.json()
    jsonschema.validate(document, json.loads(JSON_SCHEMA.read_text()))
    results = {r["unique_id"]: r for r in run_results(deploy)["results"]
               if not r["unique_id"].startswith("operation.")}  # the package's on-run-end hook: not a node
    assert {n["unique_id"]: n["status"] for n in document["nodes"]} == {k: r["status"] for k, r in results.items()}
    tests = [r for r in results.values() if r["unique_id"].startswith("test.")]
    passed = sum(1 for r in tests if r["status"] == "pass")
    assert (document["summary"]["tests_run"], document["summary"]["tests_passed"]) == (len(tests), passed)
    # Deploys record their runs, so the package's scorecard view exists and is the source; the rolled-back
    # deploy's results are not in it (it describes prod), so that one is scored from its own tests.
    assert document["quality"]["source"] == ("steward_quality_scorecard" if which == "good" else "run_tests")
    if which == "good":  # the only recorded run so far, every test passed
        assert document["quality"]["score"] == 100.0
    dimensions = {n["name"]: n["dimension"] for n in document["nodes"] if n["resource_type"] == "test"}
    assert dimensions["steward_not_empty_report_probe_"] == "completeness"
    assert dimensions["steward_accepted_range_report_probe_order_id__0"] == "validity"
    assert dimensions["unique_fct_orders_order_id"] == "uniqueness"
    assert document["project"] == "shop" and document["adapter"] == reported.project.adapter


def test_json_of_the_failed_deploy_records_the_rollback(reported):
    document = reported.failed.json()
    assert document["status"] == "rolled_back"
    failing = next(n for n in document["nodes"] if n["name"] == "report_probe_order_id_at_most_10")
    assert failing["status"] == "fail" and failing["failures"] == expected_failing_rows(reported.project) > 0
    assert failing["dimension"] == "validity" and failing["attached_node"] == "model.shop.report_probe"
    assert document["deploy"]["error"] == f"failed: {failing['unique_id']}"
    validity = next(d for d in document["quality"]["dimensions"] if d["dimension"] == "validity")
    # Scored from its own tests: the scorecard describes prod, which leaves a rolled-back deploy out.
    assert validity["status"] == "fail" and document["quality"]["source"] == "run_tests"
    assert any("the deploy was rolled back" in note for note in document["notes"])
    relations = document["rollback"]["relations"]
    assert relations and all(r["restored"] for r in relations if not r["external"])
    for relation in relations:  # restored tables hold exactly what they held before, measured afresh
        if relation["kind_before"] == "table":
            assert (relation["row_count_after"], relation["checksum_after"]) == (
                relation["row_count_before"], relation["checksum_before"]), relation
    assert document["rollback"]["mismatches"] == []


# --- junit ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["good", "failed"])
def test_junit_is_valid_and_has_a_testcase_per_node(reported, which):
    deploy = getattr(reported, which)
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    xml = deploy.read("junit")
    schema.validate(xml)
    root = ET.fromstring(xml)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {n["unique_id"] for n in deploy.json()["nodes"]}
    failures = [name for name, case in cases.items() if case.find("failure") is not None]
    assert int(root.get("failures")) == len(failures)
    if which == "failed":
        (name,) = failures
        assert "report_probe_order_id_at_most_10" in name
        failure = cases[name].find("failure")
        assert failure.get("message") == f"{expected_failing_rows(reported.project)} failing row(s)"
        assert "rows: select" in failure.text
    else:
        assert failures == []


def test_the_junit_schema_rejects_what_ci_readers_reject():
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    good = '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" classname="c" ' \
           'time="0.1"/></testsuite></testsuites>'
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace('time="0.1"', 'time="fast"'))
    assert not schema.is_valid(good.replace(' tests="1"', ""))
    assert not schema.is_valid(good.replace('time="0.1"/>', 'time="0.1"><failure/><error/></testcase>'))


# --- markdown and console -------------------------------------------------------------------------

def test_markdown_summarises_the_failed_deploy_for_a_pull_request(reported):
    text = reported.failed.read("markdown")
    document = reported.failed.json()
    assert text.startswith(f"## steward deploy `{document['deploy']['deploy_id']}`: rolled_back")
    assert "### Failures (1)" in text
    rows = expected_failing_rows(reported.project)
    assert re.search(rf"\| `test\.shop\.report_probe_order_id_at_most_10\.[0-9a-f]+` \| fail \| {rows} \|", text)
    restored = [r for r in document["rollback"]["relations"] if r["restored"]]
    assert f"Rolled back: {len(restored)} relation(s), verified against the rollback point." in text
    fct = next(r for r in document["rollback"]["relations"] if r["relation"].endswith(".fct_orders"))
    assert (f"| `{fct['relation']}` | table | {fct['row_count_before']} | {fct['checksum_before']} "
            f"| {fct['row_count_after']} | {fct['checksum_after']} | yes |") in text
    assert "```sql" in text and "### Quality score" in text and "| validity |" in text


def test_console_report_of_a_run_dir_shows_failed_tests_with_a_query_that_returns_their_rows(reported):
    done = reported.project.cli("report", "--run-dir", str(reported.failed.directory))
    assert done.returncode == 0, done.stderr
    rows = expected_failing_rows(reported.project)
    assert re.search(r"^Nodes by status: .*fail 1", done.stdout, re.MULTILINE), done.stdout
    assert "Slowest 5 nodes:" in done.stdout
    assert re.search(r"^  fail  test\.shop\.report_probe_order_id_at_most_10\.[0-9a-f]+ \[validity\] on "
                     rf"model\.shop\.report_probe: {rows} failing row\(s\)$", done.stdout, re.MULTILINE), done.stdout
    assert "Error: failed: test.shop.report_probe_order_id_at_most_10." in done.stdout
    query = re.search(r"^\s+rows: (.+)$", done.stdout, re.MULTILINE).group(1)
    assert len(reported.project.warehouse.query(query)) == rows
    assert done.stdout == reported.failed.read("console")


def test_report_without_run_dir_renders_the_latest_deploy_again_identically(reported, tmp_path):
    for fmt, name in FORMAT_FILES.items():
        output = tmp_path / name
        done = reported.project.cli("report", "--format", fmt, "--output", str(output))
        assert done.returncode == 0 and done.stdout.strip() == f"Wrote {output}", done.stderr
        assert output.read_text() == reported.failed.read(fmt), fmt


def test_report_names_a_missing_run_dir_and_exits_2(reported, tmp_path):
    done = reported.project.cli("report", "--run-dir", str(tmp_path / "nope"))
    assert done.returncode == 2 and "does not exist" in done.stderr


# --- quality scorecard from the package's table -------------------------------------------------

@pytest.mark.parametrize("which", ["good", "failed"])
def test_without_the_scorecard_the_score_is_computed_from_the_run_tests(reported, which):
    """collect() without a warehouse: the documented rule, checked against run_results and the manifest."""
    deploy = getattr(reported, which)
    report = collect(deploy.directory, "shop", "ci", reported.project.adapter)
    results = [r for r in run_results(deploy)["results"] if r["unique_id"].startswith("test.")]
    manifest = json.loads((deploy.directory / "manifest.json").read_text())["nodes"]
    passed = sum(1 for r in results if r["status"] == "pass")
    assert report.scorecard.source == "run_tests"
    assert report.scorecard.score == round(100 * passed / len(results), 1)
    by_dimension: dict[str, list[str]] = {}
    for result in results:
        node = manifest[result["unique_id"]]
        dimension = node["config"]["meta"].get("steward_dimension") or {
            "not_null": "completeness", "unique": "uniqueness", "accepted_values": "validity",
            "relationships": "consistency"}.get(node["test_metadata"]["name"], "unclassified")
        by_dimension.setdefault(dimension, []).append(result["status"])
    assert {d.dimension: (d.tests_run, d.passed) for d in report.scorecard.dimensions} == {
        dimension: (len(statuses), statuses.count("pass")) for dimension, statuses in by_dimension.items()}
    validity = next(d for d in report.scorecard.dimensions if d.dimension == "validity")
    assert validity.status == ("fail" if which == "failed" else "pass")


def test_the_package_scorecard_view_is_read_as_it_is_now(reported):
    warehouse = reported.project.warehouse
    rows = warehouse.query(f"select scope, model_unique_id, dimension, score from "
                           f"{warehouse.schema_prefix}.steward_quality_scorecard")
    done = reported.project.cli("report", "--format", "json", "--run-dir", str(reported.good.directory))
    assert done.returncode == 0, done.stderr
    quality = json.loads(done.stdout)["quality"]
    assert quality["source"] == "steward_quality_scorecard"
    (project_score,) = [float(score) for scope, _, dimension, score in rows
                        if scope == "project" and dimension == "overall"]
    assert quality["score"] == project_score
    assert {(m["model"], m["score"]) for m in quality["models"]} == {
        (model, float(score)) for scope, model, dimension, score in rows if scope == "model" and dimension == "overall"}
    console = reported.project.cli("report", "--run-dir", str(reported.good.directory))
    assert f"Quality score {project_score:g}/100 (from the steward_quality_scorecard table)" in console.stdout


def test_scorecard_rows_become_dimensions_models_and_the_project_score(reported):
    """The package's row layout, read on the warehouse: project rows per dimension, model overall rows."""
    warehouse = reported.project.warehouse
    schema = f"{warehouse.schema_prefix}_layout"
    warehouse.execute(f"create schema if not exists {schema}")
    warehouse.execute(
        f"create table {schema}.steward_quality_scorecard (scope varchar(16), model_unique_id varchar(256), "
        "model_name varchar(256), dimension varchar(32), tests_run integer, pass_rate double precision, "
        "current_status varchar(8), freshness_status varchar(8), score double precision, computed_at timestamp)")
    warehouse.execute(
        f"insert into {schema}.steward_quality_scorecard values "
        "('project', null, null, 'overall', 8, 0.875, 'fail', 'fresh', 87.5, current_timestamp), "
        "('project', null, null, 'validity', 4, 0.75, 'fail', 'fresh', 75, current_timestamp), "
        "('project', null, null, 'completeness', 4, 1.0, 'pass', 'fresh', 100, current_timestamp), "
        "('model', 'model.shop.fct_orders', 'fct_orders', 'validity', 4, 0.75, 'fail', 'late', 75, "
        "current_timestamp), "
        "('model', 'model.shop.fct_orders', 'fct_orders', 'overall', 8, 0.875, 'fail', 'late', 87.5, "
        "current_timestamp)")
    context = open_context(reported.project.directory, reported.project.directory, env={}, stdin_is_tty=False)
    with opened(context.project.connection) as connection:
        card = from_table(connection, schema)
        absent = from_table(connection, f"{schema}_none")
    assert absent is None
    assert card.source == "steward_quality_scorecard" and card.score == 87.5
    assert [(d.dimension, d.tests_run, d.passed, d.score, d.status) for d in card.dimensions] == [
        ("completeness", 4, 4, 100.0, "pass"), ("validity", 4, 3, 75.0, "fail")]
    assert [(m.model, m.score, m.status) for m in card.models] == [("model.shop.fct_orders", 87.5, "fail")]


# --- html -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI") or os.environ.get("STEWARD_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{reason}; CI or STEWARD_REQUIRE_CHROMIUM=1 requires it")
        pytest.skip(reason)
    return found


def headless(chromium: str, page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         f"--user-data-dir={page.parent / 'chromium-profile'}", *args, page.as_uri()],
        capture_output=True, timeout=120, check=True, cwd=page.parent)


@pytest.mark.parametrize("which", ["good", "failed"])
def test_html_is_one_self_contained_file(reported, which):
    html = getattr(reported, which).read("html")
    assert not re.search(r"(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/|\bsrc\s*=|<link\b|@import|url\(", html), \
        re.search(r"(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/|\bsrc\s*=|<link\b|@import|url\(", html)
    assert html.count("<style>") == 1 and html.count("<script>") == 1 and "<svg" in html


def test_html_renders_in_a_real_browser(reported, chromium, tmp_path):
    page = tmp_path / "report.html"
    shutil.copy(reported.failed.directory / "report.html", page)
    shot = tmp_path / "shot.png"
    headless(chromium, page, f"--screenshot={shot}", "--window-size=1280,1600")
    image = Image.open(BytesIO(shot.read_bytes())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the screenshot is blank"
    top = max(count for count, _ in colours)
    assert top < 0.9 * image.width * image.height, "one colour fills the screenshot"

    dom = headless(chromium, page, "--dump-dom").stdout.decode()
    text = re.sub(r"<[^>]+>", " ", dom)
    document = reported.failed.json()
    assert f"steward report: shop: deploy {document['deploy']['deploy_id']}" in " ".join(text.split())
    for heading in ("Quality scorecard", "Timeline", "Test results by quality dimension", "Rollback record"):
        assert heading in text
    assert "validity: " in text and "report_probe_order_id_at_most_10" in text
    assert text.count("restored") >= sum(1 for r in document["rollback"]["relations"] if r["restored"])


# --- elementary bridge ----------------------------------------------------------------------------

def test_elementary_bridge_says_what_to_add_when_it_is_not_installed(reported):
    done = reported.project.cli("report", "--elementary")
    assert done.returncode == 2, done.stderr
    assert "steward: error: elementary is not set up in" in done.stderr
    assert "- package: elementary-data/elementary" in done.stderr and "dbt deps" in done.stderr
    if shutil.which("edr") is None:
        assert "pip install 'elementary-data" in done.stderr


# --- secrets ----------------------------------------------------------------------------------------

def test_no_report_carries_the_password(reported):
    if reported.project.adapter != "postgres":
        pytest.skip("DuckDB profiles carry no password")
    for deploy in (reported.good, reported.failed):
        assert SENTINEL_PASSWORD not in deploy.done.stdout + deploy.done.stderr
        for path in deploy.directory.iterdir():
            assert SENTINEL_PASSWORD.encode() not in path.read_bytes(), path


# --- live progress and plain dbt runs -------------------------------------------------------------

def test_live_progress_updates_one_line_and_a_plain_dbt_run_can_be_reported(reported):
    context = open_context(reported.project.directory, reported.project.directory, env={}, stdin_is_tty=False)
    stream = StringIO()
    progress = Progress(stream, live=True)
    outcome = DbtInvoker(context.project, quiet=True, callbacks=[progress]).invoke(
        ["build"], ["--select", "report_probe"])
    progress.close()
    assert outcome.success, outcome.error
    shown = stream.getvalue()
    assert shown.endswith("\n") and shown.count("\n") == 1, repr(shown)  # every update overwrote the last
    updates = shown.rstrip("\n").split("\r\x1b[K")[1:]
    assert [re.match(r"\[(\d)/3\] (\S+)", update).groups() for update in updates] == [
        ("1", "success"), ("2", "pass"), ("3", "pass")]
    assert "model.shop.report_probe" in updates[0]

    done = reported.project.cli("report", "--format", "json", "--run-dir",
                                    str(reported.project.directory / "target"))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, json.loads(JSON_SCHEMA.read_text()))
    assert document["deploy"] is None and document["rollback"] is None and document["status"] == "succeeded"
    assert sorted(n["unique_id"].split(".")[0] for n in document["nodes"]) == ["model", "test", "test"]
    assert document["summary"]["tests_passed"] == 2

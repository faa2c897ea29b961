"""steward's run recording, scorecard, lineage and anomaly tests, on the integration_tests build
(record_runs is on in its dbt_project.yml), against real DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest

# test name -> the exact number of failing rows it returns (0: passing fixtures)
EXPECTED_FAILURES = {
    "obs_metric_weekday_backtest_fail": 2,
    "obs_metric_weekday_drops_only_fail": 1,
    "obs_metric_latest_day_pass": 0,
    "obs_volume_weekday_backtest_fail": 2,
    "obs_volume_latest_day_pass": 0,
    "obs_volume_history_events": 0,
    "obs_volume_history_flat": 0,
    "obs_metric_seven_points_spike_fail": 1,
    "obs_metric_seven_points_drop_fail": 1,
    "obs_metric_seven_points_normal_pass": 0,
    "obs_metric_too_few_points_pass": 0,
    "obs_metric_spikes_only_ignores_drop_pass": 0,
}


def results_by_name(project) -> dict[str, object]:
    return {r.node.name: r for r in project.build_result.result.results}


def schema(project) -> str:
    return project.warehouse.schema_prefix


def flagged(project, test_name: str) -> list[tuple[object, ...]]:
    relation = results_by_name(project)[test_name].node.relation_name
    rows = project.warehouse.query(
        f"select period, anomaly_direction, robust_z, training_points from {relation} order by period")
    return [(as_date(period), direction, float(z) if z is not None else None, points)
            for period, direction, z, points in rows]


def as_date(value: object) -> object:
    return value.date() if isinstance(value, dt.datetime) else value


# --- anomaly tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("test_name", sorted(EXPECTED_FAILURES))
def test_anomaly_fixture_returns_exact_failing_rows(integration_project, test_name):
    result = results_by_name(integration_project)[test_name]
    assert str(result.status) == "pass", (test_name, result.status, result.message)
    expected = EXPECTED_FAILURES[test_name]
    if expected:
        count = integration_project.warehouse.scalar(f"select count(*) from {result.node.relation_name}")
        assert count == expected, (test_name, count)


def test_injected_anomalies_are_the_points_flagged(integration_project):
    """Backtesting every point of the seasonal series flags the two injected points and nothing
    else: each scored without itself in its training window."""
    metric = flagged(integration_project, "obs_metric_weekday_backtest_fail")
    assert [(period, direction) for period, direction, _, _ in metric] == [
        (dt.date(2024, 3, 1), "spike"), (dt.date(2024, 3, 16), "drop")]
    volume = flagged(integration_project, "obs_volume_weekday_backtest_fail")
    assert [(period, direction) for period, direction, _, _ in volume] == [
        (dt.date(2024, 3, 3), "spike"), (dt.date(2024, 3, 21), "drop")]
    for _, _, z, points in metric + volume:
        assert abs(z) >= 3.5 and points >= 7


def test_seven_training_points_suffice_to_catch_a_spike(integration_project):
    """With 7 training points a z-score that counts the scored point in its own training set
    cannot exceed 2.27; excluding it, a +90 % spike scores far above 3."""
    [(period, direction, z, points)] = flagged(integration_project, "obs_metric_seven_points_spike_fail")
    assert (period, direction, points) == (dt.date(2024, 1, 8), "spike", 7)
    assert z > 10
    [(_, direction, z, _)] = flagged(integration_project, "obs_metric_seven_points_drop_fail")
    assert direction == "drop" and z < -10


def test_anomaly_dimensions(integration_project):
    results = results_by_name(integration_project)
    assert results["obs_metric_latest_day_pass"].node.config.meta["steward_dimension"] == "accuracy"
    assert results["obs_volume_latest_day_pass"].node.config.meta["steward_dimension"] == "completeness"


def test_volume_anomaly_scores_the_row_count_against_recorded_runs(integration_project):
    """Without a time column, volume_anomaly scores the current row count against the counts
    record_run kept in steward_metrics: ten earlier runs of ~1000 rows make obs_events (~23 k rows) a spike; ten
    of ~24 keep obs_flat_series (24 rows) normal."""
    project = integration_project
    metrics = f"{schema(project)}.steward_metrics"
    nodes = {r.node.name: r.node.unique_id for r in project.build_result.result.results}
    rows = []
    for day in range(1, 11):
        at = f"2024-01-{day:02d} 06:00:00"
        rows.append(f"('history-{day}', cast('{at}' as timestamp), '{nodes['obs_events']}', 'obs_events', "
                    f"'row_count', {1000 + (day % 3) * 10})")
        rows.append(f"('history-{day}', cast('{at}' as timestamp), '{nodes['obs_flat_series']}', "
                    f"'obs_flat_series', 'row_count', {23 + day % 3})")
    project.warehouse.execute(
        f"insert into {metrics} (invocation_id, measured_at, model_unique_id, model_name, metric_name, metric_value) "
        f"values {', '.join(rows)}")
    try:
        result = project.dbt("test", "--select", "tag:obs_history", expect_success=False)
        statuses = {r.node.name: (str(r.status), r.failures) for r in result.result.results
                    if r.node.resource_type == "test"}
        assert statuses == {"obs_volume_history_events": ("fail", 1), "obs_volume_history_flat": ("pass", 0)}
    finally:
        project.warehouse.execute(f"delete from {metrics} where invocation_id like 'history-%'")


# --- run recording ---------------------------------------------------------------------------------

def test_invocation_row_describes_the_build(integration_project):
    project = integration_project
    [row] = project.warehouse.query(
        f"select command, project_name, target_name, tier, adapter_type, status, nodes, errors, test_failures, "
        f"started_at, finished_at, dbt_version from {schema(project)}.steward_invocations "
        f"where invocation_id = '{project.build_invocation_id}'")
    command, name, target, tier, adapter, status, nodes, errors, failures, started, finished, version = row
    results = [r for r in project.build_result.result.results if r.node.resource_type != "operation"]
    assert (command, name, target, tier, adapter) == ("build", "steward_integration_tests", "ci", "dev",
                                                        project.adapter)
    assert (status, nodes, errors, failures) == ("success", len(results), 0, 0)
    assert started <= finished
    import dbt.version

    assert version == dbt.version.__version__


def test_node_results_match_dbt_results(integration_project):
    project = integration_project
    recorded = {
        unique_id: (resource_type, status, failures, dimension, model_id)
        for unique_id, resource_type, status, failures, dimension, model_id in project.warehouse.query(
            f"select unique_id, resource_type, status, failures, quality_dimension, model_unique_id "
            f"from {schema(project)}.steward_node_results where invocation_id = '{project.build_invocation_id}'")
    }
    expected = {}
    for result in project.build_result.result.results:
        node = result.node
        if node.resource_type == "operation":  # the run-end hook records, it is not recorded
            continue
        meta_dimension = node.config.meta.get("steward_dimension") if node.resource_type == "test" else None
        builtin = {"not_null": "completeness", "unique": "uniqueness", "accepted_values": "validity",
                   "relationships": "consistency"}
        if node.resource_type == "test" and meta_dimension is None and getattr(node, "test_metadata", None):
            meta_dimension = builtin.get(node.test_metadata.name)
        model_id = getattr(node, "attached_node", None) if node.resource_type == "test" else node.unique_id
        expected[node.unique_id] = (str(node.resource_type), str(result.status), result.failures, meta_dimension,
                                    model_id)
    assert recorded == expected


def test_node_result_rows_carry_dbt_values(integration_project):
    """Every column of steward_node_results, value for value, against dbt's own results of the build."""
    project = integration_project
    recorded = {row[0]: row[1:] for row in project.warehouse.query(
        f"select unique_id, node_name, package_name, model_name, materialization, started_at, completed_at, "
        f"execution_seconds, rows_affected, message, recorded_at "
        f"from {schema(project)}.steward_node_results where invocation_id = '{project.build_invocation_id}'")}
    [(finished,)] = project.warehouse.query(
        f"select finished_at from {schema(project)}.steward_invocations "
        f"where invocation_id = '{project.build_invocation_id}'")
    nodes = project.build_manifest["nodes"]
    checked = 0
    for result in project.build_result.result.results:
        node = result.node
        if node.resource_type == "operation":
            continue
        timing = {t.name: t for t in result.timing}.get("execute")
        model_id = getattr(node, "attached_node", None) if node.resource_type == "test" else node.unique_id
        expected_model = nodes[model_id]["name"] if model_id in nodes else None
        materialization = node.config.materialized if node.resource_type in ("model", "seed", "snapshot") else None
        message = " ".join(str(result.message).split()) if result.message else None
        name, package, model_name, materialized, started, completed, seconds, rows, text, at = recorded[node.unique_id]
        assert (name, package, model_name, materialized, text) == (
            node.name, node.package_name, expected_model, materialization, message), node.unique_id
        assert started == (timing.started_at.replace(tzinfo=None) if timing else None), node.unique_id
        assert completed == (timing.completed_at.replace(tzinfo=None) if timing else None), node.unique_id
        assert float(seconds) == pytest.approx(result.execution_time, abs=1e-3)
        reported = (result.adapter_response or {}).get("rows_affected")
        assert rows == (reported if isinstance(reported, int) and reported >= 0 else None), node.unique_id
        assert at == finished
        checked += 1
    assert checked == len(recorded) > 50


def test_recorded_text_keeps_quotes_backslashes_and_unicode(integration_project, monkeypatch):
    """Values travel to the warehouse inside one SQL literal: quotes, backslashes and non-ASCII text come
    back exactly as they were; an empty value is null."""
    project = integration_project
    monkeypatch.setenv("STEWARD_USER", "O'Brien \\ Zoë")
    monkeypatch.setenv("STEWARD_GIT_BRANCH", "feat/it's\n  done")
    monkeypatch.setenv("STEWARD_DEPLOY_ID", "")
    project.dbt("run", "--select", "settings_resolved")
    invocation = last_invocation_id(project)
    assert project.warehouse.query(
        f"select user_name, git_branch, deploy_id, selection, status from {schema(project)}.steward_invocations "
        f"where invocation_id = '{invocation}'") == [("O'Brien \\ Zoë", "feat/it's\n  done", None,
                                                      "settings_resolved", "success")]


def test_row_counts_recorded_for_every_built_table(integration_project):
    project = integration_project
    counts = dict(project.warehouse.query(
        f"select model_name, metric_value from {schema(project)}.steward_metrics "
        f"where invocation_id = '{project.build_invocation_id}' and metric_name = 'row_count'"))
    assert project.build_row_counts
    assert counts == project.build_row_counts


AUDIT_TABLES = ("steward_invocations", "steward_node_results", "steward_metrics")


def audit_rows_of(project, invocation_id: str) -> dict[str, list[tuple[object, ...]]]:
    return {table: sorted(project.warehouse.query(
                f"select * from {schema(project)}.{table} where invocation_id = '{invocation_id}'"), key=repr)
            for table in AUDIT_TABLES}


def column_names(project, table: str) -> list[str]:
    placeholder = "%s" if project.adapter == "postgres" else "?"
    return [name for (name,) in project.warehouse.query(
        "select column_name from information_schema.columns where table_schema = " + placeholder
        + " and table_name = " + placeholder + " order by ordinal_position", (schema(project), table))]


def test_audit_history_survives_rebuilds_and_full_refresh(integration_project):
    """Building the audit models again, plainly or with --full-refresh, leaves every recorded row as it was
    (the build's rows compared value for value) and only adds the rows of the runs themselves."""
    project = integration_project
    build_rows = audit_rows_of(project, project.build_invocation_id)
    assert all(build_rows.values()), {table: len(rows) for table, rows in build_rows.items()}
    invocations = f"{schema(project)}.steward_invocations"
    before = project.warehouse.scalar(f"select count(*) from {invocations}")
    for flags in ((), ("--full-refresh",)):
        project.dbt("run", "--select", *AUDIT_TABLES, *flags)
    assert audit_rows_of(project, project.build_invocation_id) == build_rows
    commands = project.warehouse.query(f"select command from {invocations}")
    assert len(commands) == before + 2  # the two runs are recorded too; nothing erased
    for table in AUDIT_TABLES:
        assert column_names(project, table) == AUDIT_COLUMNS[table], table


# The package's column lists (macros/observability/internal_obs_audit_columns.sql), written out again here.
AUDIT_COLUMNS = {
    "steward_invocations": [
        "invocation_id", "command", "project_name", "target_name", "tier", "adapter_type", "user_name",
        "git_branch", "git_sha", "deploy_id", "selection", "dbt_version", "started_at", "finished_at", "status",
        "nodes", "errors", "test_failures", "warnings", "skipped"],
    "steward_node_results": [
        "invocation_id", "unique_id", "resource_type", "node_name", "package_name", "model_unique_id",
        "model_name", "materialization", "status", "started_at", "completed_at", "execution_seconds",
        "rows_affected", "failures", "message", "quality_dimension", "recorded_at"],
    "steward_metrics": [
        "invocation_id", "measured_at", "model_unique_id", "model_name", "metric_name", "metric_value"],
}


def test_audit_table_of_an_older_column_list_gains_the_new_columns_and_keeps_its_rows(integration_project):
    """steward_metrics as an older steward left it (without model_name and metric_name, here): building the
    model adds the two columns at the end, every old row kept with nulls there; the next run fills them."""
    project = integration_project
    prefix = schema(project)
    table, saved = f"{prefix}.steward_metrics", f"{prefix}.steward_metrics_saved"
    kept = "invocation_id, measured_at, model_unique_id, metric_value"
    project.warehouse.execute(f"alter table {table} rename to steward_metrics_saved")
    try:
        project.warehouse.execute(f"create table {table} as select {kept} from {saved}")
        old_rows = sorted(project.warehouse.query(f"select {kept} from {table}"), key=repr)
        assert old_rows
        project.dbt("run", "--select", "steward_metrics")
        assert column_names(project, "steward_metrics") == [
            "invocation_id", "measured_at", "model_unique_id", "metric_value", "model_name", "metric_name"]
        assert sorted(project.warehouse.query(
            f"select {kept} from {table} where model_name is null and metric_name is null"), key=repr) == old_rows
        project.dbt("run", "--select", "settings_resolved")
        invocation = last_invocation_id(project)
        assert project.warehouse.query(
            f"select model_name, metric_name, metric_value from {table} where invocation_id = '{invocation}'"
        ) == [("settings_resolved", "row_count", 3.0)]
    finally:
        project.warehouse.execute(f"drop table if exists {table}")
        project.warehouse.execute(f"alter table {saved} rename to steward_metrics")


def test_prune_audit_deletes_what_was_recorded_before_the_cutoff_and_nothing_else(integration_project):
    """Rows recorded in 2001 go from all three tables; every row recorded since stays. A retention under a
    day is refused before anything is deleted."""
    from harness import dbt_error_text

    project = integration_project
    prefix = schema(project)
    marker, recent = "steward-prune-test", "steward-prune-kept"
    recorded = {"steward_invocations": "started_at", "steward_node_results": "recorded_at",
                "steward_metrics": "measured_at"}
    for table, column in recorded.items():
        for invocation, at in ((marker, "2001-02-03 04:05:06"), (recent, "2020-06-01 00:00:00")):
            project.warehouse.execute(f"insert into {prefix}.{table} (invocation_id, {column}) "
                                      f"values ('{invocation}', cast('{at}' as timestamp))")

    def rows() -> dict[str, list[str]]:
        return {table: sorted(str(invocation) for (invocation,) in project.warehouse.query(
            f"select invocation_id from {prefix}.{table}")) for table in recorded}

    before = rows()
    assert all(marker in ids for ids in before.values())
    refused = project.dbt("run-operation", "steward.prune_audit", "--args", "{older_than: 12h}",
                          expect_success=False)
    assert "older_than must be at least 1d" in dbt_error_text(refused)
    assert rows() == before
    project.dbt("run-operation", "steward.prune_audit", "--args", "{older_than: 3650d}")
    after = rows()
    for table in recorded:
        project.warehouse.execute(f"delete from {prefix}.{table} where invocation_id = '{recent}'")
    assert after == {table: [i for i in ids if i != marker] for table, ids in before.items()}
    assert all(recent in ids for ids in after.values())


def last_invocation_id(project) -> str:
    return json.loads((project.directory / "target" / "run_results.json").read_text())["metadata"]["invocation_id"]


# --- scorecard and lineage -------------------------------------------------------------------------

def test_scorecard_formula_on_recorded_history(integration_project):
    """Four recorded runs of two tests on a model: uniqueness pass, pass, warn, fail (oldest
    first) -> pass rate 0.625, current status fail; completeness all pass -> 1.0. The model's
    overall score is their mean; the project row averages every model."""
    project = integration_project
    prefix = schema(project)
    invocations, results = [], []
    for n, status in enumerate(["pass", "pass", "warn", "fail"], start=1):
        invocation = f"scorecard-{n}"
        invocations.append(f"('{invocation}', 'test', cast('2030-01-0{n} 00:00:00' as timestamp))")
        results.append(f"('{invocation}', 'test.fake.u', 'test', 'model.fake.m', 'm', '{status}', 'uniqueness')")
        results.append(f"('{invocation}', 'test.fake.c', 'test', 'model.fake.m', 'm', 'pass', 'completeness')")
    # Ten later runs that ran no test do not push the four out of the window (scorecard_runs: 10).
    invocations += [f"('scorecard-run-{n}', 'run', cast('2030-02-{n:02d} 00:00:00' as timestamp))"
                    for n in range(1, 11)]
    project.warehouse.execute(
        f"insert into {prefix}.steward_invocations (invocation_id, command, started_at) "
        f"values {', '.join(invocations)}")
    project.warehouse.execute(
        f"insert into {prefix}.steward_node_results (invocation_id, unique_id, resource_type, model_unique_id, "
        f"model_name, status, quality_dimension) values {', '.join(results)}")
    try:
        rows = {
            dimension: (tests, float(rate), current, float(score))
            for dimension, tests, rate, current, score in project.warehouse.query(
                f"select dimension, tests_run, pass_rate, current_status, score "
                f"from {prefix}.steward_quality_scorecard where model_unique_id = 'model.fake.m'")
        }
        assert rows == {
            "uniqueness": (1, 0.625, "fail", 62.5),
            "completeness": (1, 1.0, "pass", 100.0),
            "overall": (2, 0.8125, "fail", 81.3),
        }
        model_scores = [float(s) for (s,) in project.warehouse.query(
            f"select score from {prefix}.steward_quality_scorecard where scope = 'model' and dimension = 'overall'")]
        [(project_score, project_name)] = project.warehouse.query(
            f"select score, model_name from {prefix}.steward_quality_scorecard where scope = 'project'")
        assert project_name == "steward_integration_tests"
        assert float(project_score) == pytest.approx(sum(model_scores) / len(model_scores), abs=0.1)
    finally:
        project.warehouse.execute(f"delete from {prefix}.steward_node_results where invocation_id like 'scorecard-%'")
        project.warehouse.execute(f"delete from {prefix}.steward_invocations where invocation_id like 'scorecard-%'")


def test_scorecard_scores_the_recorded_build(integration_project):
    project = integration_project
    rows = project.warehouse.query(
        f"select model_name, dimension, current_status, score from {schema(project)}.steward_quality_scorecard "
        f"where model_name = 'core_completeness' order by dimension")
    assert rows, "no scorecard rows for a model with tests"
    assert {(status, float(score)) for _, _, status, score in rows} == {("pass", 100.0)}
    assert "overall" in {dimension for _, dimension, _, _ in rows}


def test_lineage_holds_every_edge_of_the_manifest(integration_project):
    project = integration_project
    manifest = project.build_manifest
    known = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed", "snapshot")}
    known |= set(manifest["sources"])
    children = [(uid, manifest["nodes"][uid]) for uid in known if uid in manifest["nodes"]]
    children += list(manifest["exposures"].items())
    expected = {(parent, child) for child, node in children for parent in node.get("depends_on", {}).get("nodes", [])
                if parent in known}
    recorded = set(project.warehouse.query(
        f"select parent_unique_id, child_unique_id from {schema(project)}.steward_lineage"))
    assert expected and recorded == expected


def lineage_state(project) -> tuple[set[str], set[tuple[str, str, str]]]:
    rows = project.warehouse.query(
        f"select graph_hash, parent_unique_id, child_unique_id, child_name from {schema(project)}.steward_lineage")
    return {row[0] for row in rows}, {row[1:] for row in rows}


def test_lineage_is_rewritten_only_when_the_graph_changes(integration_project):
    """A marker written into steward_lineage survives a rebuild of the same graph (same stored hash: the
    table was not rewritten); a model added to the project rewrites it with the new edge and another hash;
    removing the model again brings back the first hash; --full-refresh always rewrites."""
    project = integration_project
    table = f"{schema(project)}.steward_lineage"
    [first_hash], edges = lineage_state(project)
    parent, child, name = sorted(edges)[0]
    mark = (f"update {table} set child_name = 'marker' "
            f"where parent_unique_id = '{parent}' and child_unique_id = '{child}'")
    project.warehouse.execute(mark)
    project.dbt("run", "--select", "steward_lineage")
    assert lineage_state(project) == ({first_hash}, edges - {(parent, child, name)} | {(parent, child, "marker")})

    probe = project.directory / "models" / "lineage_probe.sql"
    probe.write_text("select * from {{ ref('settings_resolved') }}\n")
    try:
        project.dbt("run", "--select", "steward_lineage")
        [changed_hash], changed_edges = lineage_state(project)
        assert changed_hash != first_hash
        assert changed_edges == edges | {("model.steward_integration_tests.settings_resolved",
                                          "model.steward_integration_tests.lineage_probe", "lineage_probe")}
    finally:
        probe.unlink()
    project.dbt("run", "--select", "steward_lineage")
    assert lineage_state(project) == ({first_hash}, edges)

    project.warehouse.execute(mark)
    project.dbt("run", "--select", "steward_lineage", "--full-refresh")
    assert lineage_state(project) == ({first_hash}, edges)


def scorecard_view_identity(project) -> tuple[int, str]:
    """The scorecard view's catalog id (new whenever the view is created again) and its comment."""
    if project.adapter == "postgres":
        [row] = project.warehouse.query(
            "select c.oid, obj_description(c.oid, 'pg_class') from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relname = %s",
            (schema(project), "steward_quality_scorecard"))
    else:
        [row] = project.warehouse.query(
            "select view_oid, comment from duckdb_views() where schema_name = ? and view_name = ?",
            (schema(project), "steward_quality_scorecard"))
    return int(row[0]), row[1]


def test_scorecard_view_is_replaced_only_when_its_sql_changes(integration_project):
    """Built again with the same SQL the view is left as it was (same catalog id); another scorecard_runs
    changes its SQL, so it is created again with another stored md5; back to the project's setting, the
    first md5 returns."""
    project = integration_project
    first_id, first_comment = scorecard_view_identity(project)
    assert first_comment.startswith("steward sql md5 ")
    project.dbt("run", "--select", "steward_quality_scorecard")
    assert scorecard_view_identity(project) == (first_id, first_comment)

    changed = json.dumps({"steward": {"scorecard_runs": 5, "record_runs": True}})
    project.dbt("run", "--select", "steward_quality_scorecard", "--vars", changed)
    changed_id, changed_comment = scorecard_view_identity(project)
    assert changed_id != first_id and changed_comment.startswith("steward sql md5 ")
    assert changed_comment != first_comment
    project.dbt("run", "--select", "steward_quality_scorecard")
    assert scorecard_view_identity(project)[1] == first_comment
    assert project.warehouse.scalar(
        f"select count(*) from {schema(project)}.steward_quality_scorecard where scope = 'project'") == 1

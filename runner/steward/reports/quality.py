"""The quality scorecard: the package's steward_quality_scorecard table when present, else this run's tests.

The rule when computed from the run (docs/reports.md): a test's dimension is its
`meta.steward_dimension`, else the dimension of dbt's built-in test it is (BUILT_IN_DIMENSIONS), else
'unclassified'. A dimension's score is 100 x its tests that passed / its tests that ran (skipped tests
did not run; a warning is not a pass); the project's score is the same share over all tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steward.reports.model import NOT_RUN_STATUSES, DimensionScore, ModelScore, NodeRun, Scorecard
from steward.warehouse import Relation, Warehouse

SCORECARD_TABLE = "steward_quality_scorecard"
FROM_TABLE = SCORECARD_TABLE
FROM_RUN = "run_tests"
BUILT_IN_DIMENSIONS = {
    "not_null": "completeness",
    "unique": "uniqueness",
    "accepted_values": "validity",
    "relationships": "consistency",
}
UNCLASSIFIED = "unclassified"


def dimension_of(node: Mapping[str, Any]) -> str:
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    if meta.get("steward_dimension"):
        return str(meta["steward_dimension"])
    test_name = (node.get("test_metadata") or {}).get("name")
    return BUILT_IN_DIMENSIONS.get(test_name, UNCLASSIFIED)


def _share(passed: int, run: int) -> float | None:
    return round(100.0 * passed / run, 1) if run else None


def _status(passed: int, run: int, warned: int) -> str:
    if not run:
        return "none"
    if passed == run:
        return "pass"
    return "warn" if passed + warned == run else "fail"


def from_run(nodes: Sequence[NodeRun]) -> Scorecard:
    tests = [node for node in nodes if node.is_test and node.status not in NOT_RUN_STATUSES]
    dimensions = []
    for dimension in sorted({test.dimension or UNCLASSIFIED for test in tests}):
        mine = [t for t in tests if (t.dimension or UNCLASSIFIED) == dimension]
        passed = sum(1 for t in mine if t.status == "pass")
        warned = sum(1 for t in mine if t.status == "warn")
        dimensions.append(DimensionScore(dimension, len(mine), passed, _share(passed, len(mine)),
                                         _status(passed, len(mine), warned)))
    models = []
    for model in sorted({t.attached_node for t in tests if t.attached_node}):
        mine = [t for t in tests if t.attached_node == model]
        passed = sum(1 for t in mine if t.status == "pass")
        warned = sum(1 for t in mine if t.status == "warn")
        models.append(ModelScore(model, _share(passed, len(mine)), _status(passed, len(mine), warned)))
    passed = sum(1 for t in tests if t.status == "pass")
    return Scorecard(FROM_RUN, _share(passed, len(tests)), tuple(dimensions), tuple(models))


_SEVERITY = {"none": 0, "pass": 1, "warn": 2, "fail": 3}


def from_table(warehouse: Warehouse, schema: str) -> Scorecard | None:
    """The package's scorecard in `schema`, or None when it is not there.

    Dimensions are its project rows per dimension when it has them; the package's view has only the
    project's overall row, so otherwise each dimension aggregates the model rows: tests summed, the
    score the mean of the models' scores, the status the worst.
    """
    if warehouse.relation_kind(Relation(schema, SCORECARD_TABLE)) is None:
        return None
    rows = warehouse.query(
        "select scope, model_unique_id, model_name, dimension, tests_run, pass_rate, current_status, score "
        f"from {warehouse.quote(schema)}.{warehouse.quote(SCORECARD_TABLE)} order by scope, model_name, dimension")
    score = None
    models = []
    per_dimension: dict[str, dict[str, list[tuple[int, float, str, float | None]]]] = {"project": {}, "model": {}}
    for scope, unique_id, model_name, dimension, tests_run, pass_rate, status, value in rows:
        value = None if value is None else round(float(value), 1)
        entry = (int(tests_run or 0), float(pass_rate or 0), str(status or "none"), value)
        if dimension == "overall" and scope == "project":
            score = value
        elif dimension == "overall" and scope == "model":
            models.append(ModelScore(str(unique_id or model_name), value, entry[2]))
        elif scope in per_dimension:
            per_dimension[scope].setdefault(str(dimension), []).append(entry)
    source = per_dimension["project"] or per_dimension["model"]
    dimensions = []
    for dimension, entries in sorted(source.items()):
        run = sum(tests for tests, _, _, _ in entries)
        passed = round(sum(tests * rate for tests, rate, _, _ in entries))
        scores = [value for _, _, _, value in entries if value is not None]
        status = max((status for _, _, status, _ in entries), key=lambda s: _SEVERITY.get(s, 0))
        dimensions.append(DimensionScore(dimension, run, passed,
                                         round(sum(scores) / len(scores), 1) if scores else None, status))
    return Scorecard(FROM_TABLE, score, tuple(dimensions), tuple(models))

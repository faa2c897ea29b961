"""What changed since the kept state, whether it breaks consumers, and who is downstream.

Columns of a contracted model are its contract's. Columns of an uncontracted model are what the
warehouse says: the deployed relation's catalog against the types of the new compiled SQL, asked
of the warehouse without reading a row (DuckDB `DESCRIBE <query>`, a rolled-back temporary view
on PostgreSQL). Documented yml columns of an uncontracted model are not trusted for this: nothing
keeps them in step with the SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from steward.changes.state import ParsedProject, kept_manifest, state_dir, working_manifest
from steward.config.context import Context
from steward.config.safety import Check
from steward.dbt.invocation import BUILT_TYPES, DbtInvoker
from steward.errors import BadInput, SafetyRefused
from steward.warehouse import Relation, Warehouse, opened

# Config keys that describe a node without changing what it builds.
DESCRIPTIVE_CONFIG = frozenset({"meta", "tags", "docs", "persist_docs", "group", "access"})
INCREMENTAL = frozenset({"incremental", "snapshot", "scd2"})

Columns = list[tuple[str, str]]
ColumnProbe = Callable[[dict[str, Any], dict[str, Any]], tuple[Columns, Columns]]


@dataclass(frozen=True)
class Change:
    unique_id: str
    name: str
    kind: str
    breaking: bool
    detail: str
    column: str | None = None  # the column a column change is about (its old name when renamed)

    def describe(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class UsingTest:
    """A test that uses a column: its name and the file that declares it."""

    name: str
    path: str


def describe_tests(tests: Iterable[UsingTest]) -> str:
    """'a, b (models/x.yml); c (tests/c.sql)': test names grouped by the file to edit."""
    by_file: dict[str, list[str]] = {}
    for test in tests:
        by_file.setdefault(test.path, []).append(test.name)
    return "; ".join(f"{', '.join(names)} ({path})" for path, names in by_file.items())


NOTHING_DOWNSTREAM = "nothing downstream"


@dataclass(frozen=True)
class Impact:
    models: tuple[str, ...] = ()
    exposures: tuple[str, ...] = ()  # "name (owner)"

    def describe(self) -> str:
        parts = [*self.models, *(f"exposure {e}" for e in self.exposures)]
        return ", ".join(parts) if parts else NOTHING_DOWNSTREAM


@dataclass
class ChangeReport:
    has_state: bool
    changes: list[Change] = field(default_factory=list)
    impact: dict[str, Impact] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why
    changed_files: list[str] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # old or new node of each changed id
    # Tests of the working project that use a removed or renamed column, by (unique_id, column): a deploy
    # of the change fails on them, so they are downstream impact as much as the models below.
    column_tests: dict[tuple[str, str], tuple[UsingTest, ...]] = field(default_factory=dict)
    # What each changed SQL file held in the kept state (absent: the file is new), so lint can judge the
    # lines that changed.
    baselines: dict[str, str] = field(default_factory=dict)

    @property
    def breaking(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    def tests_of(self, change: Change) -> tuple[UsingTest, ...]:
        return self.column_tests.get((change.unique_id, change.column or ""), ())

    def downstream_of(self, change: Change) -> str:
        """The models, exposures and tests a change reaches, for one line of output."""
        impact = self.impact[change.unique_id].describe()
        tests = self.tests_of(change)
        if not tests:
            return impact
        named = f"tests using {change.column}: {describe_tests(tests)}"
        return named if impact == NOTHING_DOWNSTREAM else f"{impact}; {named}"

    def breaking_in(self, unique_ids: Iterable[str] | None) -> list[Change]:
        """Breaking changes a deploy of `unique_ids` ships; None is the whole project (removals too)."""
        if unique_ids is None:
            return self.breaking
        wanted = set(unique_ids)
        return [change for change in self.breaking if change.unique_id in wanted]

    def to_json(self) -> dict[str, Any]:
        return {
            "has_state": self.has_state,
            "changes": [{"unique_id": c.unique_id, "name": c.name, "kind": c.kind, "breaking": c.breaking,
                         "detail": c.detail} for c in self.changes],
            "impact": {uid: {"models": list(i.models), "exposures": list(i.exposures)}
                       for uid, i in self.impact.items()},
            "column_tests": [{"unique_id": uid, "column": column, "tests": [t.name for t in tests]}
                             for (uid, column), tests in self.column_tests.items()],
            "notes": self.notes,
            "changed_files": self.changed_files,
        }


# -- assessing the working project ----------------------------------------------------------------
def assess(context: Context, invoker: DbtInvoker, parsed: ParsedProject | None = None) -> ChangeReport:
    """Compare the working project with the target's kept state; changes nothing in the warehouse.

    A deploy passes its own parse, so the project is not parsed again (and its --vars hold)."""
    old = kept_manifest(context.project)
    if old is None:
        return ChangeReport(has_state=False)
    invoker.ensure_packages()
    new = working_manifest(invoker, parsed=parsed)
    to_probe = [node["name"] for uid, node in _relation_nodes(new).items()
                if uid in old["nodes"] and _needs_probe(old["nodes"][uid], node)]
    if to_probe:
        new = working_manifest(invoker, to_probe, parsed=parsed)
    with opened(context.project.connection) as warehouse:
        return classify(old, new, lambda before, after: _probe(warehouse, before, after))


def _probe(warehouse: Warehouse, old_node: dict[str, Any], new_node: dict[str, Any]) -> tuple[Columns, Columns]:
    deployed = warehouse.columns(Relation(old_node["schema"], old_node.get("alias") or old_node["name"]))
    if not deployed:
        raise LookupError("the deployed relation is missing")
    code = (new_node.get("compiled_code") or "").strip().rstrip(";")
    if not code:
        raise LookupError("no compiled SQL")
    try:
        return deployed, warehouse.query_columns(f"select * from ({code}) as stw_probe where 1 = 0")
    except Exception as exc:  # e.g. a parent that is not deployed yet
        raise LookupError(" ".join(str(exc).split())[:200]) from exc


def _needs_probe(old_node: dict[str, Any], new_node: dict[str, Any]) -> bool:
    contracted = _contracted(old_node) or _contracted(new_node)
    return not contracted and new_node["resource_type"] == "model" and _body_changed(old_node, new_node)


# -- classifying ----------------------------------------------------------------------------------
def classify(old: dict[str, Any], new: dict[str, Any], probe: ColumnProbe) -> ChangeReport:
    report = ChangeReport(has_state=True)
    old_nodes, new_nodes = _relation_nodes(old), _relation_nodes(new)
    added = {uid: node for uid, node in new_nodes.items() if uid not in old_nodes}
    by_checksum = {_checksum(node): uid for uid, node in added.items()}
    for uid, node in old_nodes.items():
        report.nodes.setdefault(uid, node)
        if uid in new_nodes:
            continue
        if uid in (new.get("disabled") or {}):
            _add(report, uid, node, "disabled", True, "disabled")
        elif _checksum(node) in by_checksum:
            target = added.pop(by_checksum[_checksum(node)])
            _add(report, uid, node, "renamed", True, f"renamed to {target['name']}")
            report.changed_files.append(target["original_file_path"])
            report.baselines[target["original_file_path"]] = node.get("raw_code") or ""
        else:
            _add(report, uid, node, "removed", True, "removed")
    for uid, node in added.items():
        report.nodes[uid] = node
        _add(report, uid, node, "added", False, "added")
        report.changed_files.append(node["original_file_path"])
    for uid, node in new_nodes.items():
        if uid in old_nodes:
            report.nodes[uid] = node
            _compare(report, old, new, old_nodes[uid], node, probe)
    report.changed_files = sorted(set(report.changed_files) | _changed_test_files(old, new))
    _keep_baselines(report, old)
    for uid in {change.unique_id for change in report.changes}:
        source = new if uid in new["nodes"] else old
        report.impact[uid] = downstream(source, uid)
    for change in report.changes:
        if change.kind in ("column_removed", "column_renamed") and change.column:
            report.column_tests[(change.unique_id, change.column)] = tests_using(new, change.unique_id, change.column)
    return report


def _keep_baselines(report: ChangeReport, old: dict[str, Any]) -> None:
    """The kept state's text of each changed file that it knew (a renamed file's is set where found)."""
    project = _project_name(old)
    before = {node["original_file_path"]: node.get("raw_code") or "" for node in old["nodes"].values()
              if node.get("package_name") == project and node.get("original_file_path", "").endswith(".sql")}
    for path in report.changed_files:
        if path in before:
            report.baselines.setdefault(path, before[path])


def _compare(report: ChangeReport, old: dict[str, Any], new: dict[str, Any], before: dict[str, Any],
             after: dict[str, Any], probe: ColumnProbe) -> None:
    uid, count = after["unique_id"], len(report.changes)
    if _relation_name(before) != _relation_name(after):
        _add(report, uid, after, "relation_renamed", True,
             f"relation renamed {_relation_name(before)} -> {_relation_name(after)}")
    contracted = _contracted(before) or _contracted(after)
    if _contracted(before) and not _contracted(after):
        _add(report, uid, after, "contract_removed", True, "contract removed")
    materialized = (before["config"].get("materialized"), after["config"].get("materialized"))
    if materialized[0] != materialized[1]:
        _add(report, uid, after, "materialization", contracted,
             f"materialization {materialized[0]} -> {materialized[1]}"
             + (" on a contracted model" if contracted else ""))
    if _unique_key(before) != _unique_key(after):
        _add(report, uid, after, "unique_key", True,
             f"unique_key {_unique_key(before) or '-'} -> {_unique_key(after) or '-'}")
    if _grain(before) != _grain(after):
        _add(report, uid, after, "grain", True, f"grain {_grain(before) or '-'} -> {_grain(after) or '-'}")
    if contracted and _contracted(after):
        _column_changes(report, after, _contract_columns(before), _contract_columns(after))
    elif _needs_probe(before, after):
        try:
            _column_changes(report, after, *probe(before, after))
        except LookupError as reason:
            report.notes.append(f"{after['name']}: columns not compared ({reason})")
    if _body_changed(before, after):
        report.changed_files.append(after["original_file_path"])
        if len(report.changes) == count:
            _add(report, uid, after, "logic", False, "SQL or config changed; columns unchanged")
    if _docs(before) != _docs(after):
        _add(report, uid, after, "docs", False, "descriptions changed")
    if _meta(before) != _meta(after):
        _add(report, uid, after, "meta", False, "meta or tags changed")
    if _tests_of(old, uid) != _tests_of(new, uid):
        _add(report, uid, after, "tests", False, "tests changed")


def _column_changes(report: ChangeReport, node: dict[str, Any], before: Columns, after: Columns) -> None:
    uid = node["unique_id"]
    old_types = {name.lower(): _type(kind) for name, kind in before}
    new_types = {name.lower(): _type(kind) for name, kind in after}
    removed = [name for name in old_types if name not in new_types]
    added = [name for name in new_types if name not in old_types]
    if len(removed) == 1 and len(added) == 1 and old_types[removed[0]] == new_types[added[0]]:
        _add(report, uid, node, "column_renamed", True, f"column {removed[0]} renamed to {added[0]}", removed[0])
        removed, added = [], []
    for name in removed:
        _add(report, uid, node, "column_removed", True, f"column {name} removed", name)
    for name in added:
        _add(report, uid, node, "column_added", False, f"column {name} added ({new_types[name]})")
    for name, kind in old_types.items():
        if name in new_types and new_types[name] != kind:
            _add(report, uid, node, "column_type", True, f"column {name} type {kind} -> {new_types[name]}")


def downstream(manifest: dict[str, Any], unique_id: str) -> Impact:
    """Every model and exposure below a node (children of children too), tests left out."""
    children = manifest.get("child_map") or {}
    seen: set[str] = set()
    pending = list(children.get(unique_id, []))
    while pending:
        child = pending.pop()
        if child in seen or child.startswith(("test.", "unit_test.")):
            continue
        seen.add(child)
        pending.extend(children.get(child, []))
    nodes, exposures = manifest.get("nodes") or {}, manifest.get("exposures") or {}
    models = sorted(nodes[uid]["name"] for uid in seen if uid in nodes)
    shown = []
    for uid in sorted(uid for uid in seen if uid in exposures):
        owner = exposures[uid].get("owner") or {}
        who = owner.get("email") or owner.get("name")
        shown.append(f"{exposures[uid]['name']} ({who})" if who else exposures[uid]["name"])
    return Impact(tuple(models), tuple(shown))


def tests_using(manifest: dict[str, Any], unique_id: str, column: str) -> tuple[UsingTest, ...]:
    """The tests of a manifest that use a node's column: a generic test on the column of the node (its
    column_name, or its `where`), a generic test elsewhere whose arguments name it (relationships' field,
    a list of columns), and a singular test whose SQL names it as a word."""
    wanted = column.lower()
    word = re.compile(rf"(?<![\w$]){re.escape(wanted)}(?![\w$])")
    found = []
    for node in (manifest.get("nodes") or {}).values():
        if node["resource_type"] != "test" or unique_id not in ((node.get("depends_on") or {}).get("nodes") or []):
            continue
        metadata = node.get("test_metadata")
        if metadata:
            kwargs = dict(metadata.get("kwargs") or {})
            kwargs.pop("model", None)
            on_node = node.get("attached_node") == unique_id
            if not on_node:
                kwargs.pop("column_name", None)
            named = {str(value).lower() for value in _argument_values(kwargs)}
            where = str((node.get("config") or {}).get("where") or "").lower()
            uses = wanted in named or (on_node and bool(word.search(where)))
        else:
            uses = bool(word.search((node.get("raw_code") or "").lower()))
        if uses:
            found.append(UsingTest(node["name"], node.get("original_file_path") or ""))
    return tuple(sorted(found, key=lambda test: (test.path, test.name)))


def _argument_values(value: Any) -> Iterable[Any]:
    """Every scalar in a test's arguments, through lists and mappings."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _argument_values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _argument_values(item)
    elif value is not None:
        yield value


def _add(report: ChangeReport, uid: str, node: dict[str, Any], kind: str, breaking: bool, detail: str,
         column: str | None = None) -> None:
    report.changes.append(Change(uid, node["name"], kind, breaking, detail, column))


# -- node facts -----------------------------------------------------------------------------------
def _relation_nodes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {uid: node for uid, node in manifest["nodes"].items()
            if node["resource_type"] in BUILT_TYPES and node.get("package_name") == _project_name(manifest)}


def _project_name(manifest: dict[str, Any]) -> str | None:
    return (manifest.get("metadata") or {}).get("project_name")


def _checksum(node: dict[str, Any]) -> str:
    return (node.get("checksum") or {}).get("checksum") or ""


def _contracted(node: dict[str, Any]) -> bool:
    return bool(((node.get("config") or {}).get("contract") or {}).get("enforced"))


def _relation_name(node: dict[str, Any]) -> str:
    return f"{node.get('schema')}.{node.get('alias') or node['name']}"


def _unique_key(node: dict[str, Any]) -> str:
    key = node["config"].get("unique_key")
    keys = [key] if isinstance(key, str) else list(key or [])
    return ", ".join(k.strip().lower() for k in keys)


def _grain(node: dict[str, Any]) -> str:
    """The declared grain: primary-key constraints and a `grain` meta entry."""
    keys = [column for constraint in node.get("constraints") or [] if constraint.get("type") == "primary_key"
            for column in constraint.get("columns") or []]
    keys += [name for name, column in (node.get("columns") or {}).items()
             if any(c.get("type") == "primary_key" for c in column.get("constraints") or [])]
    meta = {**(node.get("meta") or {}), **(node["config"].get("meta") or {})}
    declared = meta.get("grain")
    keys += [declared] if isinstance(declared, str) else list(declared or [])
    return ", ".join(sorted(str(k).lower() for k in keys))


def _contract_columns(node: dict[str, Any]) -> Columns:
    return [(name, str(column.get("data_type") or "")) for name, column in (node.get("columns") or {}).items()]


def _type(kind: str) -> str:
    return " ".join(kind.lower().split())


def _body_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    def building_config(node: dict[str, Any]) -> str:
        config = {k: v for k, v in node["config"].items() if k not in DESCRIPTIVE_CONFIG}
        return json.dumps(config, sort_keys=True, default=str)

    return _checksum(before) != _checksum(after) or building_config(before) != building_config(after)


def _docs(node: dict[str, Any]) -> str:
    columns = {name: column.get("description") or "" for name, column in (node.get("columns") or {}).items()}
    return json.dumps([node.get("description") or "", columns], sort_keys=True)


def _meta(node: dict[str, Any]) -> str:
    columns = {name: column.get("meta") or {} for name, column in (node.get("columns") or {}).items()}
    return json.dumps([node.get("meta") or {}, node["config"].get("meta") or {}, sorted(node.get("tags") or []),
                       columns], sort_keys=True, default=str)


def _tests_of(manifest: dict[str, Any], unique_id: str) -> str:
    tests = {uid: [node.get("test_metadata"), node.get("config", {}).get("where"),
                   node.get("config", {}).get("severity"), _checksum(node)]
             for uid, node in manifest["nodes"].items()
             if node["resource_type"] == "test" and node.get("attached_node") == unique_id}
    return json.dumps(tests, sort_keys=True, default=str)


def _changed_test_files(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """Singular tests (SQL files) that are new or edited."""
    project = _project_name(new)
    return {node["original_file_path"] for uid, node in new["nodes"].items()
            if node["resource_type"] == "test" and node.get("package_name") == project
            and node["original_file_path"].endswith(".sql") and not node.get("test_metadata")
            and _checksum(node) != _checksum(old["nodes"].get(uid) or {})}


# -- the gate and the check -----------------------------------------------------------------------
class BreakingChangeRefused(SafetyRefused):
    """A prod deploy would ship a breaking change: `details` name each change and what it reaches, `steps` are
    what migrates safely."""

    def __init__(self, message: str, details: list[str], steps: list[str]) -> None:
        super().__init__(message)
        self.details = details
        self.steps = steps


def gate(context: Context, invoker: DbtInvoker, built: Iterable[str] | None, allow_breaking: bool,
         parsed: ParsedProject | None = None) -> list[str]:
    """Refuse a prod deploy that ships a breaking change (exit 3) unless allowed; return warnings."""
    if context.tier != "prod":
        return []
    report = assess(context, invoker, parsed)
    breaking = report.breaking_in(built)
    if not breaking:
        return [f"changes not checked: {note}" for note in report.notes]
    details = [f"{c.describe()} (downstream: {report.downstream_of(c)})" for c in breaking]
    if allow_breaking:
        return [f"breaking change deployed (--allow-breaking): {'; '.join(details)}"]
    raise BreakingChangeRefused(
        f"refused: {len(breaking)} breaking change(s) for prod target {context.project.target_name}; "
        "migrate with the steps below, or pass --allow-breaking", details, migration_steps(context, report, breaking))


def migration_steps(context: Context, report: ChangeReport, breaking: list[Change]) -> list[str]:
    """Exact commands that ship the breaking changes deliberately, parents first."""
    project = context.project
    where = (f"--project-dir {project.project_dir} --profiles-dir {project.profiles_dir} "
             f"--target {project.target_name}")
    steps: list[str] = []
    stale = [(c, report.tests_of(c)) for c in breaking if report.tests_of(c)]
    if stale:
        steps.append("update or remove the tests that use the changed columns first, or the deploy fails on them "
                     "and is rolled back: " + "; ".join(f"{c.name}.{c.column}: {describe_tests(tests)}"
                                                        for c, tests in stale))
    owners = sorted({e for c in breaking for e in report.impact[c.unique_id].exposures})
    if owners:
        steps.append(f"tell the owners of the exposures downstream first: {', '.join(owners)}")
    for uid in dict.fromkeys(c.unique_id for c in breaking):
        node = report.nodes[uid]
        kinds = {c.kind for c in breaking if c.unique_id == uid}
        if kinds & {"removed", "disabled", "renamed"}:
            if "renamed" in kinds:
                renamed = next(c for c in breaking if c.unique_id == uid and c.kind == "renamed")
                new_name = renamed.detail.rsplit(" ", 1)[-1]
                steps.append(f"steward deploy {where} --select {new_name}+ --allow-breaking --yes")
                steps.append(f"keep the old name for consumers until they move (SQL): create view "
                             f"{_relation_name(node)} as select * from {node['schema']}.{new_name}")
            else:
                steps.append(f"steward deploy {where} --allow-breaking --yes  "
                             f"# {_relation_name(node)} stays in the warehouse until you drop it")
            continue
        incremental = node["config"].get("materialized") in INCREMENTAL
        refresh = " --full-refresh" if incremental else ""
        steps.append(f"steward deploy {where} --select {node['name']}+{refresh} --allow-breaking --yes")
        window = _event_window(context, node) if incremental else None
        if window:
            steps.append(f"steward backfill {where} --select {node['name']} --start {window[0]} --end {window[1]} "
                         "--batch-size day  # instead of --full-refresh: the same rows in checkpointed batches")
    return steps


def _event_window(context: Context, node: dict[str, Any]) -> tuple[str, str] | None:
    """The days a model's deployed rows span, by its `event_time` config: what a backfill must cover."""
    column = node["config"].get("event_time")
    if not column:
        return None
    relation = Relation(node["schema"], node.get("alias") or node["name"])
    with opened(context.project.connection) as warehouse:
        if warehouse.relation_kind(relation) is None:
            return None
        first, last = warehouse.query(f"select cast(min({warehouse.quote(column)}) as date), "
                                      f"cast(max({warehouse.quote(column)}) as date) "
                                      f"from {warehouse.qualified(relation)}")[0]
    if first is None:
        return None
    return str(first), str(last + timedelta(days=1))


def change_check(context: Context, invoker: DbtInvoker) -> tuple[Check, ChangeReport | None]:
    """`steward check`'s view of the changes: breaking ones fail on prod (exit 3) and warn elsewhere."""
    try:
        report = assess(context, invoker)
    except BadInput as error:
        return Check("changes", False, str(error), exit_code=2), None
    if not report.has_state:
        return Check("changes", True, f"no kept state in {state_dir(context.project)} yet; "
                                      "the next successful deploy keeps one"), report
    breaking = report.breaking
    parts = [f"{c.describe()} (downstream: {report.downstream_of(c)})" for c in breaking]
    others = [c.describe() for c in report.changes if not c.breaking]
    detail = "; ".join([*(f"BREAKING {p}" for p in parts), *others, *(f"not checked: {n}" for n in report.notes)])
    return Check("changes", not breaking, detail or "none since the last deploy",
                 blocking=context.tier == "prod", exit_code=3), report

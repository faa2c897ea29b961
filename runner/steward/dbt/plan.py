"""What a deploy will build: the selected nodes, in build order, and the relations they replace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from steward.dbt.invocation import BUILT_TYPES, TEST_TYPES, DbtInvoker
from steward.errors import BadInput
from steward.warehouse import Relation
from steward.warehouse.connect import WAREHOUSE_CLASSES

# steward's audit tables are append-only, and a rollback must not erase the record of the
# deploy it undoes: they stay out of rollback points.
AUDIT_TAG = "steward_observability"
# The materialization of the three append-only audit tables (the others of the tag are lineage and scorecard).
AUDIT_TABLE = "steward_audit_table"


@dataclass(frozen=True)
class PlannedNode:
    unique_id: str
    resource_type: str
    materialized: str | None
    relation: Relation | None  # None for ephemeral models
    audit: bool = False  # one of steward's own audit relations


@dataclass(frozen=True)
class Plan:
    nodes: tuple[PlannedNode, ...]
    tests: tuple[str, ...]

    @property
    def relations(self) -> list[Relation]:
        """Relations the build (re)creates and a rollback restores, parents before children."""
        return [node.relation for node in self.nodes if node.relation is not None and not node.audit]


def make_plan(invoker: DbtInvoker, selection_args: list[str], manifest: Any = None) -> Plan:
    listed = invoker.list_nodes(selection_args, keys=("unique_id", "resource_type", "database", "schema", "alias",
                                                      "name", "config", "depends_on"), manifest=manifest)
    built = {item["unique_id"]: item for item in listed if item["resource_type"] in BUILT_TYPES}
    graph = {
        unique_id: [parent for parent in (item.get("depends_on") or {}).get("nodes", []) if parent in built]
        for unique_id, item in built.items()
    }
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise BadInput(f"selection: the dbt graph has a cycle: {exc.args[1]}") from exc
    nodes = []
    for unique_id in order:
        item = built[unique_id]
        config = item.get("config") or {}
        materialized = config.get("materialized")
        relation = None
        connection = invoker.project.connection
        if connection.adapter_type in WAREHOUSE_CLASSES:
            WAREHOUSE_CLASSES[connection.adapter_type].refuse_unbuildable(unique_id, config, connection.settings)
        if materialized != "ephemeral":
            require_target_database(item, invoker)
            relation = Relation(str(item["schema"]), str(item.get("alias") or item["name"]))
        nodes.append(PlannedNode(unique_id, item["resource_type"], materialized, relation,
                                 audit=AUDIT_TAG in (config.get("tags") or [])))
    tests = tuple(sorted(item["unique_id"] for item in listed if item["resource_type"] in TEST_TYPES))
    return Plan(nodes=tuple(nodes), tests=tests)


def require_target_database(item: dict[str, Any], invoker: DbtInvoker) -> None:
    """Refuse a listed node built into another database than the target's. Rollback points live in the
    target's database and name relations by schema and name only: a node built elsewhere (a DuckDB attach,
    say) would be snapshotted as the wrong relation, or not at all."""
    home = target_database(invoker.project.connection.adapter_type, invoker.project.connection.settings)
    database = str(item.get("database") or "")
    if home and database and database.lower() != home.lower():
        raise BadInput(f"selection: {item['unique_id']} builds into database {database!r}, not {home!r}, the one "
                       f"steward's connection opens (the profile's database); steward keeps rollback points only "
                       f"there: exclude it (--exclude {item['name']}) or build it with plain dbt")


def target_database(adapter_type: str, settings: dict[str, Any]) -> str:
    """The database steward's own connection works in: the profile's `database`, which steward's DuckDB connection
    opens as its default catalog (an attached file's alias included: see warehouse.connect), else DuckDB's name
    for the file (its name up to the first dot; `memory` in memory)."""
    if adapter_type == "duckdb" and not settings.get("database"):
        path = str(settings.get("path") or ":memory:")
        if path == ":memory:":
            return "memory"
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", path):
            return ""  # md:, motherduck:, ducklake: ...: named by their service; not checked
        return Path(path).name.lstrip(".").split(".")[0]
    return str(settings.get("database") or "")

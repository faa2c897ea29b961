"""The runner's architecture, checked from its source: which layer may import which, and no import cycles.

Pure Python (the files are read, nothing is imported), so it costs nothing next to the dbt-backed tests.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "steward"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every steward module `path` imports, at module level or inside a function (a lazy import hides a
    cycle, it does not remove it), TYPE_CHECKING blocks included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("steward"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("steward"))
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def test_the_runner_has_no_import_cycle() -> None:
    try:
        list(TopologicalSorter(GRAPH).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_the_deploy_flow_does_not_import_its_strategies() -> None:
    strategies = {"steward.deploy.in_place", "steward.deploy.blue_green", "steward.deploy"}
    assert not GRAPH["steward.deploy.flow"] & strategies


@pytest.mark.parametrize("module", sorted(name for name in MODULES if name.startswith("steward.reports")))
def test_reports_know_nothing_of_deploys(module: str) -> None:
    """The deploy hands the reports a result; a report can be rendered again from a directory alone."""
    assert not {imported for imported in GRAPH[module] if imported.startswith("steward.deploy")}


# Layers from the bottom up, as docs/architecture.md lists them: a module imports its own layer and those below.
LAYERS = ("steward.errors steward.redact steward.faults steward", "steward.config", "steward.warehouse", "steward.dbt",
          "steward.changes", "steward.reports", "steward.deploy", "steward.cli", "steward.__main__")


def layer_of(module: str) -> int:
    for rank in reversed(range(len(LAYERS))):
        if any(module == name or module.startswith(f"{name}.") for name in LAYERS[rank].split()):
            if rank == 0 and module not in LAYERS[0].split():
                continue
            return rank
    raise AssertionError(f"{module} belongs to no layer; add its package to LAYERS and docs/architecture.md")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_and_those_below(module: str) -> None:
    upward = sorted(imported for imported in GRAPH[module] if layer_of(imported) > layer_of(module))
    assert not upward, f"{module} imports from a higher layer: {upward}"

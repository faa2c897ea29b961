"""The package's conventions, read from its files (no dbt run): every public macro, generic test and
materialization is documented in a .yml beside it (a description, each argument, an example), and every
public macro is a one-line adapter.dispatch to a default__ implementation in the steward namespace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

MACROS = Path(__file__).resolve().parents[2] / "macros"
DEFINITION = re.compile(
    r"{%-?\s*(?P<kind>macro|test|materialization)\s+(?P<name>\w+)\s*(?:\((?P<args>[^)]*)\))?"
    r"(?:\s*,\s*(?:adapter\s*=\s*)?['\"]?(?P<adapter>\w+)['\"]?)?")
IMPLEMENTATION = re.compile(r"^(default|duckdb|postgres|spark)__")


@dataclass(frozen=True)
class Definition:
    doc_name: str
    kind: str
    name: str
    arguments: tuple[str, ...]
    path: Path


def definitions() -> list[Definition]:
    found = []
    for path in sorted(MACROS.rglob("*.sql")):
        for match in DEFINITION.finditer(path.read_text()):
            kind, name = match["kind"], match["name"]
            doc_name = {"test": f"test_{name}",
                        "materialization": f"materialization_{name}_{match['adapter'] or 'default'}"}.get(kind, name)
            arguments = tuple(a.split("=")[0].strip() for a in (match["args"] or "").split(",") if a.strip())
            found.append(Definition(doc_name, kind, name, arguments, path))
    return found


def public() -> list[Definition]:
    return [d for d in definitions() if not IMPLEMENTATION.match(d.name) and not d.name.startswith("internal_")]


def documented_entries() -> list[tuple[Path, dict]]:
    return [(path, item) for path in sorted(MACROS.rglob("*.yml"))
            for item in (yaml.safe_load(path.read_text()) or {}).get("macros") or []]


def documented() -> dict[str, tuple[Path, dict]]:
    return {item["name"]: (path, item) for path, item in documented_entries()}


def test_each_macro_is_documented_once():
    names = [item["name"] for _, item in documented_entries()]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_the_conventions_see_the_package():
    names = {d.doc_name for d in public()}
    assert {"scd2_history_sql", "prune_audit", "test_volume_anomaly", "materialization_scd2_default"} <= names


@pytest.mark.parametrize("definition", public(), ids=lambda d: d.doc_name)
def test_public_macro_is_documented_beside_it(definition):
    docs = documented()
    assert definition.doc_name in docs, f"{definition.path}: {definition.doc_name} has no entry in a .yml"
    path, entry = docs[definition.doc_name]
    assert path.parent == definition.path.parent, f"{definition.doc_name} is documented in {path}, not beside it"
    assert (entry.get("description") or "").strip(), f"{definition.doc_name}: no description"
    assert ((entry.get("meta") or {}).get("example") or "").strip(), f"{definition.doc_name}: no example"
    if definition.kind == "macro":
        listed = [argument["name"] for argument in entry.get("arguments") or []]
        assert set(definition.arguments) <= set(listed), f"{definition.doc_name}: arguments {listed}"


@pytest.mark.parametrize("definition", [d for d in public() if d.kind == "macro"], ids=lambda d: d.name)
def test_public_macro_is_a_one_line_dispatch(definition):
    text = definition.path.read_text()
    body = re.search(r"{%-?\s*macro\s+" + definition.name + r"\b[^%]*-?%}(.*?){%-?\s*endmacro", text, re.S)
    assert body, definition.name
    assert re.fullmatch(r"\s*{{\s*return\(adapter\.dispatch\('" + definition.name
                        + r"',\s*'steward'\)\([^)]*\)\)\s*}}\s*", body.group(1)), (
        f"{definition.path}: {definition.name} is not a one-line adapter.dispatch")
    names = {d.name for d in definitions()}
    assert f"default__{definition.name}" in names, f"{definition.name} has no default__ implementation"

"""The deploy policy: steward.yml beside dbt_project.yml, validated on load, with safe defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from steward.config import validation
from steward.errors import BadInput

POLICY_FILE = "steward.yml"
TIERS = ("dev", "staging", "prod")
STRATEGIES = ("in-place", "blue-green")


@dataclass(frozen=True)
class Policy:
    source: str  # the file it came from, or "defaults"
    prod_targets: tuple[str, ...] = ("prod", "production", "prd")
    staging_targets: tuple[str, ...] = ("staging", "stg", "uat", "qa")
    prod_allowed_branches: tuple[str, ...] = ("main", "master", "release/*")
    prod_require_clean_tree: bool = True
    prod_require_confirmation: bool = True
    dev_protected_branches: tuple[str, ...] = ("main", "master", "develop")
    rollback_schema: str = "steward_rollback"
    rollback_keep: int = 5
    rollback_retention: timedelta = timedelta(days=7)
    lock_lease: timedelta = timedelta(minutes=15)
    deploy_strategy: str = "in-place"
    schedule: str | None = None

    def tier_of(self, target_name: str) -> str:
        name = target_name.lower()
        if name in self.prod_targets:
            return "prod"
        if name in self.staging_targets:
            return "staging"
        return "dev"

    def describe(self) -> dict[str, Any]:
        described = asdict(self)
        for key, value in described.items():
            if isinstance(value, timedelta):
                described[key] = _format_duration(value)
            elif isinstance(value, tuple):
                described[key] = list(value)
        return described


# Allowed keys of steward.yml: section -> key -> (Policy attribute, parser).
def _names(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise BadInput(f"{field}: must be a list of names")
    return tuple(value)


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{field}: must be true or false, got {value!r}")
    return value


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"{field}: must be a whole number of at least 1, got {value!r}")
    return value


def _one_of(allowed: tuple[str, ...]):
    def parse(value: Any, field: str) -> str:
        if value not in allowed:
            raise BadInput(f"{field}: must be one of {', '.join(allowed)}, got {value!r}")
        return value

    return parse


_SCHEMA: dict[str, dict[str, tuple[str, Any]]] = {
    "tiers": {
        "prod": ("prod_targets", _names),
        "staging": ("staging_targets", _names),
    },
    "prod": {
        "allowed_branches": ("prod_allowed_branches", _names),
        "require_clean_tree": ("prod_require_clean_tree", _flag),
        "require_confirmation": ("prod_require_confirmation", _flag),
    },
    "dev": {
        "protected_branches": ("dev_protected_branches", _names),
    },
    "rollback": {
        "schema": ("rollback_schema", validation.identifier),
        "keep": ("rollback_keep", _count),
        "retention": ("rollback_retention", validation.duration),
    },
    "lock": {
        "lease": ("lock_lease", validation.duration),
    },
    "deploy": {
        "strategy": ("deploy_strategy", _one_of(STRATEGIES)),
    },
}
_TOP_LEVEL_VALUES = {"schedule": ("schedule", validation.cron)}


def load_policy(project_dir: Path) -> Policy:
    path = project_dir / POLICY_FILE
    if not path.exists():
        return Policy(source="defaults")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path}:{where}: not valid YAML") from exc
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: expected a mapping of sections ({', '.join(_allowed_top())})")
    values: dict[str, Any] = {}
    for section, body in raw.items():
        if section == "version":
            if body != 1:
                raise BadInput(f"{path}: version: must be 1, got {body!r}")
            continue
        if section in _TOP_LEVEL_VALUES:
            attribute, parse = _TOP_LEVEL_VALUES[section]
            values[attribute] = parse(body, f"{path}: {section}")
            continue
        if section not in _SCHEMA:
            raise BadInput(f"{path}: unknown key {section!r} (allowed: {', '.join(_allowed_top())})")
        if not isinstance(body, dict):
            raise BadInput(f"{path}: {section}: must be a mapping (keys: {', '.join(_SCHEMA[section])})")
        for key, value in body.items():
            if key not in _SCHEMA[section]:
                raise BadInput(f"{path}: {section}.{key}: unknown key (allowed: {', '.join(_SCHEMA[section])})")
            attribute, parse = _SCHEMA[section][key]
            values[attribute] = parse(value, f"{path}: {section}.{key}")
    return Policy(source=str(path), **values)


def _allowed_top() -> list[str]:
    return ["version", *_SCHEMA, *_TOP_LEVEL_VALUES]


def _format_duration(value: timedelta) -> str:
    """A duration as steward.yml and the README spell it: in days, hours, minutes or seconds (7d, never 1w)."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

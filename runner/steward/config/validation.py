"""Input checks run before anything touches the warehouse; each failure names its field in one line."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from steward.config import durations
from steward.errors import BadInput

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TARGET = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_DSN = re.compile(r"^(postgres|postgresql)://[^\s/]*(/[A-Za-z0-9_.-]*)?(\?\S*)?$")

_SELECTOR_METHODS = {
    "tag", "path", "file", "fqn", "source", "resource_type", "package", "test_type", "test_name", "state",
    "exposure", "metric", "result", "source_status", "group", "access", "version", "semantic_model",
    "saved_query", "unit_test", "wildcard",
}
# One selection token: optional @ or n+ parents, optional method:, a name with wildcards, optional +n children.
_SELECTOR_TOKEN = re.compile(
    r"^(?P<at>@)?(?P<parents>\d*\+)?(?:(?P<method>[a-z_]+(?:\.[A-Za-z0-9_]+)*):)?"
    r"(?P<value>[A-Za-z0-9_.*?/\[\]-]+)(?P<children>\+\d*)?$"
)


def identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise BadInput(
            f"{field}: {value!r} is not a valid identifier (letters, digits and _, not starting with a digit)"
        )
    return value


def target_name(value: str, field: str = "--target") -> str:
    if not _TARGET.match(value):
        raise BadInput(f"{field}: {value!r} is not a target name (letters, digits, _, - and .)")
    return value


def duration(value: Any, field: str) -> timedelta:
    """'90s', '15m', '12h', '7d', '2w' or the same in words ('36 hours', '1 week'): longer than zero, with a unit."""
    parsed = durations.parse(value) if isinstance(value, str) else None
    if parsed is None or not parsed.unit_given or parsed.seconds == 0:
        raise BadInput(f"{field}: {value!r} is not a duration (a whole number above zero and a unit, at most "
                       f"100 years: 90s, 30m, 6h, 3d, 2w or '2 days')")
    return timedelta(seconds=parsed.seconds)


def cron(value: Any, field: str) -> str:
    from croniter import croniter

    if not isinstance(value, str) or not croniter.is_valid(value):
        raise BadInput(f"{field}: {value!r} is not a valid cron expression (five fields, e.g. '0 6 * * *')")
    return value


def selection(value: str | None, field: str) -> str | None:
    """Check dbt node-selection syntax: space-separated unions of comma-separated intersections."""
    if value is None:
        return None
    tokens = [token for part in value.split() for token in part.split(",")]
    if not tokens or any(not token for token in tokens):
        raise BadInput(f"{field}: {value!r} is not a valid selection (empty term)")
    for token in tokens:
        match = _SELECTOR_TOKEN.match(token)
        if not match:
            raise BadInput(f"{field}: {token!r} is not a valid selection term")
        method = match.group("method")
        if method and method.split(".")[0] not in _SELECTOR_METHODS | {"config"}:
            raise BadInput(f"{field}: unknown selector method {method!r} in {token!r}")
        if match.group("at") and match.group("parents"):
            raise BadInput(f"{field}: {token!r} combines @ with a parents operator")
    return value


def cli_vars(value: str | None, field: str = "--vars") -> dict[str, Any]:
    if value is None or not value.strip():
        return {}
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at column {mark.column + 1}" if mark else ""
        raise BadInput(f"{field}: not valid YAML{where}") from exc
    if not isinstance(parsed, dict):
        raise BadInput(f"{field}: must be a YAML mapping such as '{{key: value}}', got {type(parsed).__name__}")
    return parsed


def connection(adapter_type: str, settings: Mapping[str, Any], target: str) -> None:
    """Shape checks on the resolved connection; reaching the warehouse is not attempted here."""
    where = f"target {target}"
    if adapter_type == "duckdb":
        path = str(settings.get("path") or "")
        if path and path != ":memory:" and not path.startswith(("md:", "motherduck:", "s3://", "gs://", "http")):
            location = Path(path).expanduser()
            if location.is_dir():
                raise BadInput(f"{where} path: {path!r} is a directory, not a DuckDB database file")
            if not location.parent.exists():
                raise BadInput(f"{where} path: directory {str(location.parent)!r} does not exist")
    if "host" in settings:
        host = str(settings.get("host") or "")
        if not _valid_host(host):
            raise BadInput(f"{where} host: {host!r} is not a hostname or IP address")
    if "port" in settings:
        port = settings.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise BadInput(f"{where} port: {port!r} is not a port number (1-65535)")
    dsn = settings.get("dsn") or settings.get("url")
    if dsn is not None and not _DSN.match(str(dsn)):
        raise BadInput(f"{where} dsn: not a postgresql:// connection URL")
    schema = settings.get("schema")
    if schema is not None:
        identifier(schema, f"{where} schema")


def _valid_host(host: str) -> bool:
    if host.startswith("/"):
        return True  # a Unix socket directory
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host))

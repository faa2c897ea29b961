"""Run dbt in-process, one command at a time, and summarise what it did."""

from __future__ import annotations

import gc
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from steward import faults
from steward.config.project import Project
from steward.errors import BadInput
from steward.redact import redact_text

# Statuses dbt reports for nodes that did not go as planned.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
# Resource types whose build replaces or changes a relation, and those that test.
BUILT_TYPES = frozenset({"model", "seed", "snapshot"})
TEST_TYPES = frozenset({"test", "unit_test"})
# Where dbt keeps its partial-parse state, inside the project's target path.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str
    name: str
    status: str
    execution_time: float
    message: str | None = None
    failures: int | None = None
    rows_affected: int | None = None
    relation: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass(frozen=True)
class DbtOutcome:
    command: str
    success: bool
    nodes: tuple[NodeResult, ...] = ()
    error: str | None = None

    @property
    def failed_nodes(self) -> tuple[NodeResult, ...]:
        return tuple(node for node in self.nodes if node.failed)

    @property
    def failure(self) -> str:
        """What went wrong, on one line: dbt's error, else each failed node with what dbt said of it (a dropped
        connection, a test's failing rows)."""
        if self.error:
            return self.error
        return "; ".join(f"{node.name}: {_one_line(node.message)[:200]}" if node.message else node.name
                         for node in self.failed_nodes)


@contextmanager
def own_parse_state(shared: Path, own: Path) -> Iterator[None]:
    """Let one parse use `own` as dbt's partial-parse state and leave `shared` as it was.

    A deploy parses with settings a plain `dbt build` does not have (the run recording switch), so
    with one shared state each would re-parse the files those settings touch whenever the two
    alternate. The first parse with its own state starts from a copy of the shared one. Every file
    here is a cache that dbt checks against the project before using it: an interruption between
    the renames costs at most a slower parse, never a wrong one.
    """
    own.parent.mkdir(parents=True, exist_ok=True)
    aside = own.with_name(f"{own.name}.shared")
    if shared.is_file():
        shared.replace(aside)
    if own.is_file():
        own.replace(shared)
    elif aside.is_file():
        shutil.copyfile(aside, shared)
    try:
        yield
    finally:
        if shared.is_file():
            shared.replace(own)
        if aside.is_file():
            aside.replace(shared)


class DbtInvoker:
    """Invokes dbt commands against one project and target.

    dbt keeps process-wide state, so invocations run one after another; dbtRunner resets
    the adapters around each one. `callbacks` receive dbt's events (live progress); `on_step` is told, in
    one line, what an invocation that is a step of its own does (see `invoke`).
    """

    def __init__(self, project: Project, *, quiet: bool = False,
                 callbacks: Sequence[Callable[[Any], None]] = (),
                 on_step: Callable[[str], None] | None = None) -> None:
        self.project = project
        self.quiet = quiet
        self.callbacks = list(callbacks)
        self.on_step = on_step

    def base_args(self) -> list[str]:
        """Where the project is, and its target only as the person gave it: dbt resolves the profile's
        default to the same target, and its parse state stays shared with plain dbt runs."""
        target = ["--target", self.project.target_arg] if self.project.target_arg else []
        return ["--project-dir", str(self.project.project_dir), "--profiles-dir", str(self.project.profiles_dir),
                *target]

    def invoke(self, command: Sequence[str], extra: Sequence[str] = (), manifest: Any = None, *,
               step: str | None = None, silent: bool = False) -> DbtOutcome:
        """Run one dbt command. `step` says what it does, in one line to `on_step`, when it is a step of its own
        (its progress counts from 1 again). `silent` runs a command whose output is not the user's business
        (a compile to compare columns prints compiled SQL and test progress) with no events and no dbt
        output; its errors still come back in the outcome. A verbose invoker (quiet=False) shows everything."""
        from dbt.cli.main import dbtRunner

        if step and self.on_step is not None:
            self.on_step(step)
        hushed = silent and self.quiet
        output = (["--log-level", "none"] if hushed else ["--quiet"]) if self.quiet else []
        argv = ["--no-version-check", *output, *command, *self.base_args(), *extra]
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        result = dbtRunner(manifest=manifest,
                           callbacks=[*([] if hushed else self.callbacks), *faults.dbt_callbacks()]).invoke(argv)
        error = None
        if result.exception is not None:
            error = redact_text(_one_line(result.exception), self.project.connection.secrets)
        return DbtOutcome(
            command=" ".join(command),
            success=bool(result.success),
            nodes=tuple(_node_results(result.result)),
            error=error,
        )

    def parse(self, extra: Sequence[str] = (), parse_state: Path | None = None) -> Any:
        """Parse the project once (writing target/manifest.json) and return the manifest, so the
        plan and the build that follow need no parse of their own. `extra` carries --vars, which
        parsing depends on. With `parse_state`, dbt's partial parse starts from and updates that
        file instead of the project's shared target/partial_parse.msgpack (see `own_parse_state`)."""
        from dbt.cli.main import dbtRunner

        argv = ["--no-version-check", "--quiet", "parse", *self.base_args(), *extra]
        if parse_state is None:
            result = dbtRunner().invoke(argv)
        else:
            with own_parse_state(self.project.target_path / PARTIAL_PARSE_FILE, parse_state):
                result = dbtRunner().invoke(argv)
        if not result.success or result.result is None:
            message = redact_text(_one_line(result.exception), self.project.connection.secrets)
            raise BadInput(f"project: dbt could not parse {self.project.project_dir}: {message}")
        return result.result

    def ensure_packages(self) -> None:
        """Run `dbt deps` when the project declares packages that are not installed yet."""
        declared = any(
            (yaml.safe_load(path.read_text()) or {}).get("packages")
            for path in (self.project.project_dir / name for name in ("packages.yml", "dependencies.yml"))
            if path.is_file()
        )
        installed = self.project.project_dir / self.project.packages_install_path
        if declared and not (installed.is_dir() and any(installed.iterdir())):
            outcome = self.invoke(["deps"])
            if not outcome.success:
                raise BadInput(f"packages: dbt deps failed: {outcome.error}")

    def list_nodes(self, extra: Sequence[str] = (),
                   keys: Sequence[str] = ("unique_id", "resource_type", "name"),
                   manifest: Any = None) -> list[dict[str, Any]]:
        """The nodes a selection resolves to, as dbt ls reports them, with the given keys; with
        `manifest`, dbt lists from it instead of parsing the project again."""
        from dbt.cli.main import dbtRunner

        # ls prints its listing even with --quiet; log level none keeps our output clean.
        argv = ["--no-version-check", "--log-level", "none", "ls", *self.base_args(), *extra,
                "--output", "json", "--output-keys", *keys]
        result = dbtRunner(manifest=manifest).invoke(argv)
        if not result.success:
            raise BadInput(f"selection: dbt could not list nodes: {_one_line(result.exception)}")
        return [json.loads(line) for line in result.result or []]


@contextmanager
def environment_overlay(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the dbt invocations inside (the package reads them with
    env_var), and put back what was there before."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def release_duckdb_file() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation (a
    class-level environment), so that another process (sqlfluff's templater, a second steward) can open it."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.adapters.factory import reset_adapters
    except ImportError:
        return
    reset_adapters()
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
    gc.collect()


def _one_line(error: Any) -> str:
    return " ".join(str(error).split()) if error else "unknown error"


def _node_results(result: Any) -> list[NodeResult]:
    nodes: list[NodeResult] = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:
            continue
        adapter_response = getattr(item, "adapter_response", None) or {}
        relation = getattr(node, "relation_name", None)
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=str(node.resource_type),
                name=node.name,
                status=str(item.status),
                execution_time=float(getattr(item, "execution_time", 0.0) or 0.0),
                message=getattr(item, "message", None),
                failures=getattr(item, "failures", None),
                rows_affected=adapter_response.get("rows_affected") if isinstance(adapter_response, dict) else None,
                relation=relation,
            )
        )
    return nodes

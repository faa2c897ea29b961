"""Opening the runner's own connection. dbt builds through its own connections; this one is opened around
each phase and closed before dbt runs, because DuckDB allows a single writer per database file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from steward.config.project import Connection
from steward.errors import BadInput, DeployLocked
from steward.redact import redact_text
from steward.warehouse.base import Warehouse
from steward.warehouse.duckdb_warehouse import DuckDBWarehouse
from steward.warehouse.postgres_warehouse import PostgresWarehouse


def warehouse_class(adapter_type: str) -> type[Warehouse]:
    """The Warehouse subclass of an adapter, for what is known before connecting (can it move across schemas)."""
    classes: dict[str, type[Warehouse]] = {"duckdb": DuckDBWarehouse, "postgres": PostgresWarehouse}
    if adapter_type not in classes:
        raise BadInput(f"adapter: steward's runner supports duckdb and postgres, not {adapter_type!r}")
    return classes[adapter_type]


@contextmanager
def opened(connection: Connection) -> Iterator[Warehouse]:
    warehouse = connect(connection)
    try:
        yield warehouse
    finally:
        warehouse.close()


def connect(connection: Connection) -> Warehouse:
    settings = connection.settings
    if connection.adapter_type == "duckdb":
        import duckdb

        path = str(settings.get("path") or ":memory:")
        try:
            return DuckDBWarehouse(duckdb.connect(path))
        except duckdb.IOException as exc:
            raise DeployLocked(_duckdb_lock_message(path, str(exc))) from exc
    if connection.adapter_type == "postgres":
        import psycopg2

        # The profile's TLS settings hold for steward's connection as for dbt's: without them libpq would
        # settle for whatever the server offers.
        tls = {key: str(settings[key]) for key in POSTGRES_TLS_SETTINGS if settings.get(key)}
        try:
            raw = psycopg2.connect(
                host=settings.get("host"), port=settings.get("port"), user=settings.get("user"),
                password=settings.get("password") or None, dbname=settings.get("database"),
                connect_timeout=int(settings.get("connect_timeout") or 10), application_name="steward",
                # A killed deploy's orphaned session may still hold locks: fail with a message, never hang.
                options="-c lock_timeout=60s", **tls,
            )
        except psycopg2.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
            raise BadInput(f"connection: cannot reach PostgreSQL: {redact_text(first, connection.secrets)}") from exc
        raw.autocommit = True
        warehouse = PostgresWarehouse(raw)
        if settings.get("role"):
            # dbt works as the profile's role; what steward creates, moves back or recreates must be owned by
            # it too, or dbt's next build could not replace it.
            try:
                warehouse.execute(f"set role {Warehouse.quote(str(settings['role']))}")
            except psycopg2.Error as exc:
                warehouse.close()
                raise BadInput(f"connection: cannot set role {settings['role']!r}: "
                               f"{' '.join(str(exc).split())}") from exc
        return warehouse
    raise BadInput(f"adapter: steward's runner supports duckdb and postgres, not {connection.adapter_type!r}")


POSTGRES_TLS_SETTINGS = ("sslmode", "sslcert", "sslkey", "sslrootcert")


def _duckdb_lock_message(path: str, error: str) -> str:
    holder = re.search(r"Conflicting lock is held in (?P<program>\S+)(?: \(PID (?P<pid>\d+)\))?", error)
    if holder:
        pid = holder.group("pid") or "unknown"
        program = holder.group("program")
        return f"DuckDB file {path} is held by another process (PID {pid}, {program}); retry when it exits"
    return f"DuckDB file {path} could not be opened: {' '.join(error.split())}"

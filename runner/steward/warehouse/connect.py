"""Opening the runner's own connection. dbt builds through its own connections; this one is opened around
each phase and closed before dbt runs, because DuckDB allows a single writer per database file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
        return _connect_duckdb(settings)
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


def _connect_duckdb(settings: dict[str, Any]) -> DuckDBWarehouse:
    """Open the database as dbt-duckdb opens it for the profile: its `config_options`, `extensions`, `settings` and
    `attach`, then its `database` as the default catalog. That may be an attached file's alias (a MotherDuck or
    attached-catalog profile): unqualified names, rollback copies and catalog lookups then all land where dbt
    builds."""
    import duckdb
    from dbt.adapters.duckdb.credentials import Attachment

    path = str(settings.get("path") or ":memory:")
    try:
        raw = duckdb.connect(path, config=dict(settings.get("config_options") or {}))
    except duckdb.IOException as exc:
        raise DeployLocked(_duckdb_lock_message(path, str(exc))) from exc
    warehouse = DuckDBWarehouse(raw)
    try:
        present = {str(name): (bool(installed), bool(loaded)) for name, installed, loaded in
                   raw.execute("select extension_name, installed, loaded from duckdb_extensions()").fetchall()}
        for extension in settings.get("extensions") or []:
            name, repository = (extension, None) if isinstance(extension, str) else (extension["name"],
                                                                                    extension.get("repo"))
            installed, loaded = present.get(str(name), (False, False))
            if not installed:  # an extension built into DuckDB, or installed already, needs no download
                raw.execute(f"install {name}" + (f" from {repository}" if repository else ""))
            if not loaded:
                raw.load_extension(name)
        for key, value in (settings.get("settings") or {}).items():
            raw.execute(f"set {key} = {warehouse.literal(str(value))}")
        for attachment in settings.get("attach") or []:
            raw.execute(Attachment.from_dict(attachment).to_sql())
        database = settings.get("database")
        if database and database != warehouse.scalar("select current_database()"):
            raw.execute(f"use {warehouse.quote(str(database))}")
    except duckdb.Error as exc:
        warehouse.close()
        raise BadInput(f"connection: cannot open DuckDB {path} as the profile says: {' '.join(str(exc).split())}") \
            from exc
    return warehouse


def _duckdb_lock_message(path: str, error: str) -> str:
    holder = re.search(r"Conflicting lock is held in (?P<program>\S+)(?: \(PID (?P<pid>\d+)\))?", error)
    if holder:
        pid = holder.group("pid") or "unknown"
        program = holder.group("program")
        return f"DuckDB file {path} is held by another process (PID {pid}, {program}); retry when it exits"
    return f"DuckDB file {path} could not be opened: {' '.join(error.split())}"

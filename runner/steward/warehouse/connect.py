"""Opening the runner's own connection. dbt builds through its own connections; this one is opened around
each phase and closed before dbt runs, because DuckDB allows a single writer per database file."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from steward.config.project import Connection
from steward.errors import BadInput, DeployLocked
from steward.redact import redact_text
from steward.warehouse.base import Warehouse
from steward.warehouse.duckdb_warehouse import DuckDBWarehouse
from steward.warehouse.postgres_warehouse import PostgresWarehouse
from steward.warehouse.spark_warehouse import SparkWarehouse

ADAPTERS = "duckdb, postgres and spark"
WAREHOUSE_CLASSES: dict[str, type[Warehouse]] = {
    "duckdb": DuckDBWarehouse, "postgres": PostgresWarehouse, "spark": SparkWarehouse}


def warehouse_class(adapter_type: str) -> type[Warehouse]:
    """The Warehouse subclass of an adapter, for what is known before connecting (can it move across schemas)."""
    if adapter_type not in WAREHOUSE_CLASSES:
        raise BadInput(f"adapter: steward's runner supports {ADAPTERS}, not {adapter_type!r}")
    return WAREHOUSE_CLASSES[adapter_type]


def refuse_unsupported(adapter_type: str, feature: str) -> None:
    """BadInput (exit 2) when the runner cannot give `feature` on the adapter; an adapter the runner does not
    know is refused later, when a command needs its connection."""
    WAREHOUSE_CLASSES.get(adapter_type, Warehouse).refuse_unsupported(feature)


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
    if connection.adapter_type == "spark":
        return _connect_spark(connection)
    raise BadInput(f"adapter: steward's runner supports {ADAPTERS}, not {connection.adapter_type!r}")


def _connect_spark(connection: Connection) -> SparkWarehouse:
    """dbt-spark's own connection for the profile's method. In session mode that is this process's
    SparkSession, the one dbt builds with: the runner and dbt share one JVM and one metastore."""
    from dbt.adapters.contracts.connection import Connection as DbtConnection
    from dbt.adapters.spark.connections import SparkConnectionManager, SparkCredentials

    credentials = SparkCredentials.from_dict(connection.settings)
    held = _derby_held_elsewhere(connection.settings) if credentials.method == "session" else None
    if held:
        raise DeployLocked(f"Spark's metastore {held} (an embedded Derby database) is open in another process; "
                           "session mode admits one process at a time: retry when it exits")
    try:
        opened_connection = SparkConnectionManager.open(
            DbtConnection(type="spark", name="steward", credentials=credentials))  # type: ignore[arg-type]
        warehouse = SparkWarehouse(opened_connection.handle)
        # The first statement starts the session and reaches the metastore.
        warehouse.query("show schemas like 'default'")
    except Exception as exc:
        message = " ".join(str(exc).split())
        if "Another instance of Derby" in message or "Failed to start database" in message:
            raise DeployLocked(
                "Spark's metastore (an embedded Derby database) is open in another process; session mode admits "
                "one process at a time: retry when it exits") from exc
        raise BadInput(f"connection: cannot open Spark ({credentials.method}): "
                       f"{redact_text(message[:300], connection.secrets)}") from exc
    return warehouse


def _derby_held_elsewhere(settings: Mapping[str, Any]) -> str | None:
    """The session's embedded Derby metastore when another process has it open, found before this process
    starts a JVM: Derby holds an exclusive lock on its dbex.lck while booted, and Hive's client would
    otherwise retry for minutes and fail with a message that does not say why."""
    from pyspark import SparkContext

    if SparkContext._jvm is not None:
        return None  # this process's own JVM is running: it is the one holding the metastore
    url = str((settings.get("server_side_parameters") or {}).get(
        "spark.hadoop.javax.jdo.option.ConnectionURL") or "jdbc:derby:;databaseName=metastore_db;create=true")
    name = re.search(r"databaseName=([^;]+)", url) if url.startswith("jdbc:derby:") else None
    marker = Path(name.group(1)) / "dbex.lck" if name else None
    if marker is None or not marker.is_file():
        return None
    descriptor = os.open(marker, os.O_RDWR)
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(descriptor, fcntl.LOCK_UN)
        return None
    except OSError:
        return str(marker.parent)
    finally:
        os.close(descriptor)


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

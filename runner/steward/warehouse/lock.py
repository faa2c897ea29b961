"""One deploy per target at a time.

PostgreSQL: a session-level advisory lock on a connection held for the whole deploy, so a killed
process releases it when its session ends. DuckDB: an exclusive flock on a file beside the
database, which the kernel releases when the process dies. Either way the holder's identity is
written where a second deploy can read it, so it can say who holds the lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from steward.config.project import Project
from steward.errors import ConnectionLost, DeployLocked, RecoveryRequired
from steward.warehouse import Warehouse, warehouse_class


@dataclass(frozen=True)
class LockHolder:
    deploy_id: str
    host: str
    pid: int
    since: str
    lease_until: str

    def describe(self) -> str:
        return (f"deploy {self.deploy_id} (host {self.host}, pid {self.pid}, since {self.since}, "
                f"lease until {self.lease_until})")


class DeployLock:
    """Context manager; raises DeployLocked naming the holder when the target is taken."""

    def __init__(self, project: Project, holder: LockHolder, schema: str) -> None:
        self.project = project
        self.holder = holder
        self.schema = schema  # where PostgreSQL keeps the holders table: the rollback schema
        self._release = lambda: None
        self._session: Warehouse | None = None  # PostgreSQL: the session holding the advisory lock

    def __enter__(self) -> DeployLock:
        if self.project.adapter_type == "postgres":
            self._acquire_postgres()
        else:
            self._acquire_file()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._release()

    def ensure_held(self) -> None:
        """Take the lock again if its session was lost: a dropped connection ends the session and releases an
        advisory lock with it. RecoveryRequired (exit 6) when someone else took it in between: the deploy must
        stop without touching anything. A file lock lives as long as the process: nothing to do."""
        if self._session is None:
            return
        try:
            self._session.scalar("select 1")
            return
        except ConnectionLost:
            self._session.close()
        try:
            self._acquire_postgres()
        except DeployLocked as taken:
            raise RecoveryRequired(
                f"deploy {self.holder.deploy_id} lost the deploy lock with its warehouse connection and cannot take "
                f"it back ({taken}); it stopped without changing anything more; once the target is free, finish it "
                f"with: steward recover --target {self.project.target_name}") from taken

    # -- DuckDB and other file-based warehouses -----------------------------------------------------
    def lock_file(self) -> Path:
        """Beside what the warehouse keeps on this machine (a DuckDB file, Spark's warehouse directory), so that
        every checkout building into it contends for one lock; else in the project's target directory."""
        base = warehouse_class(self.project.adapter_type).lock_file_base(self.project.connection.settings)
        if base:
            return Path(base + ".steward.warehouse.lock")
        return self.project.target_path / f"steward-{self.project.target_name}.lock"

    def _acquire_file(self) -> None:
        path = self.lock_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read()
            handle.close()
            raise DeployLocked(f"target {self.project.target_name} is locked by {_describe_holder(text)}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(asdict(self.holder)))
        handle.flush()

        def release() -> None:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

        self._release = release

    # -- PostgreSQL -------------------------------------------------------------------------------
    def lock_key(self) -> int:
        settings = self.project.connection.settings
        identity = f"steward:{settings.get('host')}:{settings.get('database')}:{settings.get('schema')}"
        return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big", signed=True)

    def _acquire_postgres(self) -> None:
        from steward.warehouse import connect

        warehouse = connect(self.project.connection)
        key = self.lock_key()
        holders = f"{warehouse.quote(self.schema)}.steward_lock_holders"
        try:
            if not warehouse.scalar("select pg_try_advisory_lock(%s)", (key,)):
                raise DeployLocked(f"target {self.project.target_name} is locked by "
                                   f"{_postgres_holder(warehouse, holders, key)}")
            warehouse.ensure_schema(self.schema)
            warehouse.execute(f"create table if not exists {holders} "
                              "(lock_key bigint primary key, backend_pid integer, holder text)")
            warehouse.execute(f"delete from {holders} where lock_key = %s", (key,))
            warehouse.execute(f"insert into {holders} values (%s, pg_backend_pid(), %s)",
                              (key, json.dumps(asdict(self.holder))))
        except BaseException:
            warehouse.close()
            raise
        self._session = warehouse

        def release() -> None:
            session = self._session
            if session is None:
                return
            try:
                session.execute(f"delete from {holders} where lock_key = %s", (key,))
                session.execute("select pg_advisory_unlock(%s)", (key,))
            except ConnectionLost:
                pass  # the session is gone, and the lock went with it
            finally:
                session.close()
                self._session = None

        self._release = release


def _describe_holder(text: str) -> str:
    try:
        return LockHolder(**json.loads(text)).describe()
    except (ValueError, TypeError):
        return "another deploy (holder unknown)"


def _postgres_holder(warehouse: Warehouse, holders: str, key: int) -> str:
    """The recorded holder, if its session is the one that holds the advisory lock now."""
    lock_pid = warehouse.scalar(
        "select pid from pg_locks where locktype = 'advisory' and granted "
        "and ((classid::bigint << 32) | objid::bigint) = %s",
        (key,),
    )
    try:
        row = warehouse.query(f"select backend_pid, holder from {holders} where lock_key = %s", (key,))
    except Exception:  # no holders table: whoever holds the lock is not steward
        row = []
    if row and row[0][0] == lock_pid:
        return _describe_holder(row[0][1])
    return f"another session (PostgreSQL backend pid {lock_pid})"

"""The deploy journal: one record per state, written before its step, to a local file and the warehouse.

The local file survives a warehouse that cannot be written; the warehouse table survives a lost
machine. `recover` reads both and trusts the most advanced state.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from steward.warehouse import Relation, Warehouse

# In-place: planned -> locked -> snapshotted -> building -> succeeded | failed -> rolled_back | rollback_failed.
# Blue-green: planned -> locked -> staging -> publishing -> succeeded, or staging -> rejected (prod untouched).
STATES = ("planned", "locked", "snapshotted", "building", "staging", "publishing", "succeeded", "failed", "rejected",
          "rolled_back", "rollback_failed")
# A deploy in one of these states was interrupted, or its rollback did not finish.
UNFINISHED = frozenset({"locked", "snapshotted", "building", "staging", "publishing", "failed", "rollback_failed"})


@dataclass(frozen=True)
class DeployRecord:
    deploy_id: str
    project: str
    target: str
    tier: str
    adapter: str
    host: str
    pid: int
    user: str
    started_at: str
    state: str = "planned"
    updated_at: str = ""
    keep_until: str | None = None
    git_branch: str | None = None
    git_sha: str | None = None
    selection: str | None = None
    exclusion: str | None = None
    full_refresh: bool = False
    auto_rollback: bool = True
    override_reason: str | None = None
    relations: tuple[str, ...] = ()
    strategy: str = "in-place"
    detail: str | None = None
    history: tuple[tuple[str, str], ...] = field(default=())

    @property
    def unfinished(self) -> bool:
        if self.state == "failed" and not self.auto_rollback:
            return False  # --no-rollback: the person chose to keep the failed state
        return self.state in UNFINISHED

    def advanced(self, state: str, detail: str | None = None) -> DeployRecord:
        if state not in STATES:
            raise ValueError(f"unknown deploy state {state!r}")
        now = utc_now()
        return replace(self, state=state, updated_at=now, detail=detail, history=(*self.history, (state, now)))

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeployRecord:
        data: dict[str, Any] = json.loads(text)
        data["relations"] = tuple(data.get("relations") or ())
        data["history"] = tuple(tuple(item) for item in data.get("history") or ())
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LocalJournal:
    """Append-only JSON lines under target/steward/journal/, fsynced so a kill -9 cannot lose a record."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, record: DeployRecord) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{record.deploy_id}.jsonl"
        with path.open("a") as handle:
            handle.write(record.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def records(self) -> dict[str, DeployRecord]:
        found: dict[str, DeployRecord] = {}
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("*.jsonl")):
            lines = [line for line in path.read_text().splitlines() if line.strip()]
            for line in reversed(lines):  # a torn last line (killed mid-write) falls back to the one before
                try:
                    record = DeployRecord.from_json(line)
                except (ValueError, TypeError):
                    continue
                found[record.deploy_id] = record
                break
        return found


class WarehouseJournal:
    """steward_deploys (one row per deploy, its latest state) and steward_journal (every state) tables."""

    def __init__(self, warehouse: Warehouse, schema: str) -> None:
        self.warehouse = warehouse
        self.schema = schema

    def _table(self, name: str) -> str:
        return f"{self.warehouse.quote(self.schema)}.{self.warehouse.quote(name)}"

    def ensure(self) -> None:
        self.warehouse.ensure_schema(self.schema)
        self.warehouse.execute(
            f"create table if not exists {self._table('steward_deploys')} ("
            "deploy_id varchar(64) not null primary key, target varchar(256) not null, state varchar(32) not null, "
            "started_at varchar(40) not null, updated_at varchar(40) not null, record text not null)"
        )
        self.warehouse.execute(
            f"create table if not exists {self._table('steward_journal')} ("
            "deploy_id varchar(64) not null, state varchar(32) not null, recorded_at varchar(40) not null, "
            "detail text)"
        )

    def write(self, record: DeployRecord) -> None:
        p = self.warehouse.param
        self.warehouse.execute(f"delete from {self._table('steward_deploys')} where deploy_id = {p}",
                               (record.deploy_id,))
        self.warehouse.execute(
            f"insert into {self._table('steward_deploys')} values ({p}, {p}, {p}, {p}, {p}, {p})",
            (record.deploy_id, record.target, record.state, record.started_at, record.updated_at, record.to_json()),
        )
        self.warehouse.execute(
            f"insert into {self._table('steward_journal')} values ({p}, {p}, {p}, {p})",
            (record.deploy_id, record.state, record.updated_at, record.detail),
        )

    def records(self) -> dict[str, DeployRecord]:
        if self.warehouse.relation_kind(Relation(self.schema, "steward_deploys")) is None:
            return {}
        rows = self.warehouse.query(f"select record from {self._table('steward_deploys')}")
        records = (DeployRecord.from_json(row[0]) for row in rows)
        return {record.deploy_id: record for record in records}


def merge(*sources: dict[str, DeployRecord]) -> dict[str, DeployRecord]:
    """Per deploy, the record with the longest history: the furthest anyone got."""
    merged: dict[str, DeployRecord] = {}
    for source in sources:
        for deploy_id, record in source.items():
            current = merged.get(deploy_id)
            if current is None or len(record.history) > len(current.history):
                merged[deploy_id] = record
    return merged

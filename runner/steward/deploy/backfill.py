"""`steward backfill`: rebuild a model's history one window at a time, with checkpoints.

Each batch replaces exactly its window: for a model filtered by `steward.incremental_window`, the
runner deletes the target's rows in the window (by the model's `event_time` config) and dbt builds
the model with the window in the `steward_window_start` / `steward_window_end` vars; a dbt
microbatch model gets `--event-time-start` / `--event-time-end` and dbt's own delete+insert. A
batch is checkpointed as done only after its build and its tests pass, to a fsynced local file
and to `steward_backfill_batches` in the rollback schema; `--resume` skips every batch either
says is done. The deploy lock is held throughout, and a rollback point of the model is made
before the first batch, so `steward rollback --deploy-id <backfill id>` undoes the whole backfill.

A backfill that was killed (journalled `backfilling`, never `succeeded` or `failed`) blocks every other deploy
until a person chooses: `steward recover` restores its rollback point, undoing every batch; `--resume` continues
it from the batches done. A failed batch is journalled `failed` and kept for `--resume` (or `steward rollback`).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from steward import faults
from steward.config import validation
from steward.config.context import Context
from steward.dbt.invocation import TEST_TYPES, DbtInvoker, DbtOutcome
from steward.dbt.plan import require_target_database
from steward.deploy.flow import new_deploy_id
from steward.deploy.ledger import Ledger
from steward.deploy.restore import interrupted, recoverable
from steward.errors import BadInput, DbtFailed, StorageFailed
from steward.warehouse import Relation, Warehouse, opened, refuse_unsupported
from steward.warehouse.journal import DeployRecord, timestamp
from steward.warehouse.lock import DeployLock, LockHolder
from steward.warehouse.rollback import RollbackStore

BATCH_SIZES = ("hour", "day", "week", "month")
_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class BackfillOptions:
    select: str
    start: str
    end: str
    batch_size: str = "day"
    resume: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class Batch:
    number: int
    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"[{_iso(self.start)}, {_iso(self.end)})"


@dataclass(frozen=True)
class Target:
    """The model a backfill rebuilds and how its windows reach dbt."""

    unique_id: str
    name: str
    relation: Relation
    mode: str  # 'window' (steward.incremental_window) or 'microbatch'
    event_time: str | None


@dataclass
class BackfillResult:
    backfill_id: str
    target: Target
    batches: list[Batch]
    skipped: list[Batch] = field(default_factory=list)
    ran: list[Batch] = field(default_factory=list)
    resumed: bool = False


@dataclass(frozen=True)
class Checkpoint:
    """One line of a backfill's journal."""

    backfill_id: str
    target: str
    model: str
    window: str  # "<start>/<end>/<batch size>": what --resume matches on
    event: str  # started, batch_started, batch_done, batch_failed, finished
    batch_start: str | None = None
    recorded_at: str = ""
    detail: str | None = None


# -- windows ----------------------------------------------------------------------------------------
def parse_time(value: str, field_name: str) -> datetime:
    for form in _FORMATS:
        try:
            return datetime.strptime(value.strip(), form)
        except ValueError:
            continue
    raise BadInput(f"{field_name}: {value!r} is not an ISO date or timestamp (2024-01-31 or 2024-01-31 12:00)")


def batches(start: datetime, end: datetime, size: str) -> list[Batch]:
    """Consecutive windows from start; the last one ends at `end`."""
    found, cursor = [], start
    while cursor < end:
        following = min(_step(cursor, size), end)
        found.append(Batch(len(found) + 1, cursor, following))
        cursor = following
    return found


def _step(moment: datetime, size: str) -> datetime:
    if size == "hour":
        return moment + timedelta(hours=1)
    if size == "day":
        return moment + timedelta(days=1)
    if size == "week":
        return moment + timedelta(weeks=1)
    month = moment.month % 12 + 1
    year = moment.year + (moment.month == 12)
    day = min(moment.day, _days_in_month(year, month))
    return moment.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    following = datetime(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def validate(options: BackfillOptions) -> tuple[datetime, datetime]:
    validation.identifier(options.select, "--select")
    if options.batch_size not in BATCH_SIZES:
        raise BadInput(f"--batch-size: {options.batch_size!r} is not one of {', '.join(BATCH_SIZES)}")
    start, end = parse_time(options.start, "--start"), parse_time(options.end, "--end")
    if start >= end:
        raise BadInput(f"--end: {options.end} must be after --start {options.start}")
    return start, end


# -- the model ---------------------------------------------------------------------------------------
def resolve_target(context: Context, invoker: DbtInvoker, name: str, manifest: Any = None) -> Target:
    listed = invoker.list_nodes(["--select", name, "--resource-type", "model"],
                                keys=("unique_id", "name", "database", "schema", "alias", "config",
                                      "original_file_path"), manifest=manifest)
    models = [item for item in listed if item["name"] == name]
    if len(models) != 1:
        raise BadInput(f"--select: {name!r} is not one model of this project")
    model = models[0]
    require_target_database(model, invoker)
    config = model.get("config") or {}
    relation = Relation(str(model["schema"]), str(model.get("alias") or model["name"]))
    event_time = config.get("event_time")
    if config.get("materialized") == "incremental" and config.get("incremental_strategy") == "microbatch":
        return Target(model["unique_id"], name, relation, "microbatch", event_time)
    code = (context.project.project_dir / model["original_file_path"]).read_text()
    if "incremental_window" not in code:
        raise BadInput(f"--select: model {name} uses neither steward.incremental_window nor dbt microbatch; "
                       "backfill needs one of them to bound a batch")
    if config.get("materialized") != "incremental":
        raise BadInput(f"--select: model {name} is materialized as {config.get('materialized')}, not incremental")
    if not event_time:
        raise BadInput(f"--select: model {name} has no event_time config; set config(event_time='<column>') "
                       "to the column its incremental_window filters on")
    validation.identifier(event_time, f"model {name} event_time")
    return Target(model["unique_id"], name, relation, "window", event_time)


def batch_args(target: Target, batch: Batch) -> list[str]:
    if target.mode == "microbatch":
        return ["--select", target.name, "--event-time-start", batch.start.strftime("%Y-%m-%dT%H:%M:%S"),
                "--event-time-end", batch.end.strftime("%Y-%m-%dT%H:%M:%S")]
    window = {"steward_window_start": _iso(batch.start), "steward_window_end": _iso(batch.end)}
    return ["--select", target.name, "--vars", json.dumps(window)]


# -- checkpoints -------------------------------------------------------------------------------------
class LocalCheckpoints:
    """target/steward/backfills/<id>.jsonl, appended and fsynced line by line."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, checkpoint: Checkpoint) -> None:
        path = self.directory / f"{checkpoint.backfill_id}.jsonl"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with path.open("a") as handle:
                handle.write(json.dumps(asdict(checkpoint), sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise StorageFailed(f"cannot write the backfill journal {path}: {exc.strerror or exc}; the backfill "
                                "stopped: once it can be written, continue it with --resume or undo it with "
                                "steward recover") from exc

    def read(self) -> list[Checkpoint]:
        found: list[Checkpoint] = []
        for path in sorted(self.directory.glob("*.jsonl")) if self.directory.is_dir() else []:
            for line in path.read_text().splitlines():
                try:
                    found.append(Checkpoint(**json.loads(line)))
                except (ValueError, TypeError):
                    continue  # a line torn by a kill mid-write
        return found


class WarehouseCheckpoints:
    """steward_backfill_batches in the rollback schema: survives a lost machine."""

    def __init__(self, warehouse: Warehouse, schema: str) -> None:
        self.warehouse = warehouse
        self.schema = schema
        self.table = f"{warehouse.quote(schema)}.{warehouse.quote('steward_backfill_batches')}"

    def ensure(self) -> None:
        self.warehouse.ensure_schema(self.schema)
        self.warehouse.execute(
            f"create table if not exists {self.table} (backfill_id varchar(64) not null, "
            "target varchar(256) not null, model varchar(256) not null, backfill_window varchar(128) not null, "
            "event varchar(32) not null, batch_start varchar(40), recorded_at varchar(40) not null, detail text)")

    def write(self, checkpoint: Checkpoint) -> None:
        p = self.warehouse.param
        self.warehouse.execute(
            f"insert into {self.table} values ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
            (checkpoint.backfill_id, checkpoint.target, checkpoint.model, checkpoint.window, checkpoint.event,
             checkpoint.batch_start, checkpoint.recorded_at, checkpoint.detail))

    def read(self) -> list[Checkpoint]:
        rows = self.warehouse.query(
            "select backfill_id, target, model, backfill_window, event, batch_start, recorded_at, detail "
            f"from {self.table}")
        return [Checkpoint(*row) for row in rows]


class Checkpoints:
    """Local first, then the warehouse; reads trust either."""

    def __init__(self, context: Context, backfill_id: str, model: str, window: str) -> None:
        self.context = context
        self.local = LocalCheckpoints(context.project.target_path / "steward" / "backfills")
        self.base = Checkpoint(backfill_id, context.project.target_name, model, window, "started")

    def write(self, event: str, batch: Batch | None = None, detail: str | None = None) -> None:
        checkpoint = Checkpoint(self.base.backfill_id, self.base.target, self.base.model, self.base.window, event,
                                _iso(batch.start) if batch else None,
                                timestamp(datetime.now(timezone.utc)), detail)
        self.local.write(checkpoint)
        with opened(self.context.project.connection) as warehouse:
            remote = WarehouseCheckpoints(warehouse, self.context.policy.rollback_schema)
            remote.ensure()
            remote.write(checkpoint)


def all_checkpoints(context: Context, warehouse: Warehouse) -> list[Checkpoint]:
    remote = WarehouseCheckpoints(warehouse, context.policy.rollback_schema)
    remote.ensure()
    local = LocalCheckpoints(context.project.target_path / "steward" / "backfills").read()
    target = context.project.target_name
    return [c for c in [*local, *remote.read()] if c.target == target]


def reconcile(context: Context, warehouse: Warehouse, backfill_id: str) -> None:
    """Give each copy of a backfill's journal the checkpoints only the other has.

    A checkpoint is written locally first, then to the warehouse: a kill between the two leaves it
    only locally, and a lost machine leaves only the warehouse's. A resumed backfill repairs both,
    so either copy alone tells the whole story again."""
    local_store = LocalCheckpoints(context.project.target_path / "steward" / "backfills")
    remote_store = WarehouseCheckpoints(warehouse, context.policy.rollback_schema)
    local = [c for c in local_store.read() if c.backfill_id == backfill_id]
    remote = [c for c in remote_store.read() if c.backfill_id == backfill_id]
    local_set, remote_set = set(local), set(remote)
    for checkpoint in (c for c in local if c not in remote_set):
        remote_store.write(checkpoint)
    for checkpoint in (c for c in remote if c not in local_set):
        local_store.write(checkpoint)


def latest_unfinished(checkpoints: list[Checkpoint], model: str, window: str) -> str | None:
    """The latest backfill of this model and window that never finished (it may have been undone since)."""
    finished = {c.backfill_id for c in checkpoints if c.event == "finished"}
    started = sorted((c.recorded_at, c.backfill_id) for c in checkpoints
                     if c.model == model and c.window == window and c.event == "started"
                     and c.backfill_id not in finished)
    return started[-1][1] if started else None


def done_batches(checkpoints: list[Checkpoint], backfill_id: str) -> set[str]:
    return {c.batch_start for c in checkpoints
            if c.backfill_id == backfill_id and c.event == "batch_done" and c.batch_start}


# -- running -----------------------------------------------------------------------------------------
def backfill(context: Context, options: BackfillOptions, invoker: DbtInvoker,
             echo: Callable[[str], None] = lambda line: None) -> BackfillResult:
    """Run (or with dry_run, plan) a checkpointed backfill; StewardError on failure (see errors.EXIT_CODES)."""
    start, end = validate(options)
    refuse_unsupported(context.project.adapter_type, "backfill")
    window = f"{_iso(start)}/{_iso(end)}/{options.batch_size}"
    planned = batches(start, end, options.batch_size)
    now = datetime.now(timezone.utc)
    backfill_id = new_deploy_id(now)
    holder = LockHolder(backfill_id, socket.gethostname(), os.getpid(), timestamp(now),
                        timestamp(now + context.policy.lock_lease))
    ledger = Ledger(context)
    with DeployLock(context.project, holder, context.policy.rollback_schema) as lock, \
            recoverable(context, f"backfill {backfill_id}"):
        # What the journal says is checked before dbt parses: a refusal costs no parse. (`--select` names one
        # model, which resolve_target below makes sure of.)
        with opened(context.project.connection) as warehouse:
            records = ledger.records(warehouse)
            checkpoints = all_checkpoints(context, warehouse)
        model = options.select
        previous = latest_unfinished(checkpoints, model, window)
        if previous is not None and records.get(previous, None) is not None \
                and records[previous].state == "rolled_back":
            if options.resume:
                raise BadInput(f"--resume: backfill {previous} of {model} over this window was undone "
                               "(steward recover or rollback); run it again without --resume")
            previous = None
        # The backfill being resumed is the one unfinished deploy that may stand: resuming is how it finishes.
        blocking = sorted((r for r in records.values() if r.unfinished
                           and not (options.resume and r.deploy_id == previous)), key=lambda r: r.started_at)
        if blocking:
            raise interrupted(context, blocking[0])
        if options.resume and previous is None:
            raise BadInput(f"--resume: no unfinished backfill of {model} over {options.start} .. "
                           f"{options.end} by {options.batch_size} on target {context.project.target_name}")
        invoker.ensure_packages()
        # One parse for the whole backfill: the window reaches the models through vars read when
        # they compile, so every batch builds from this manifest instead of parsing again.
        manifest = invoker.parse()
        target = resolve_target(context, invoker, model, manifest)
        if previous and not options.resume:
            echo(f"note: backfill {previous} of the same window did not finish; this one runs every batch "
                 "(--resume continues it instead)")
        if options.resume and previous:
            backfill_id = previous
        done = done_batches(checkpoints, backfill_id) if options.resume else set()
        result = BackfillResult(backfill_id, target, planned, resumed=options.resume)
        result.skipped = [batch for batch in planned if _iso(batch.start) in done]
        if options.dry_run:
            return result
        if options.resume:
            with opened(context.project.connection) as warehouse:
                reconcile(context, warehouse, backfill_id)
        journal = Checkpoints(context, backfill_id, target.name, window)
        record = _start(context, ledger, journal, result, options, records.get(backfill_id))
        for batch in planned:
            label = f"backfill {target.name}: batch {batch.number}/{len(planned)} {batch.describe()}"
            if batch in result.skipped:
                echo(f"{label} already done; skipped")
                continue
            began = time.monotonic()
            lock.ensure_held()  # a connection dropped during the last batch takes the lock's session with it
            outcome = _run_batch(context, invoker, journal, target, batch, manifest)
            if not outcome.success:
                failure = outcome.error or ", ".join(f"{n.name} {n.status}" for n in outcome.failed_nodes)
                journal.write("batch_failed", batch, failure)
                with opened(context.project.connection) as warehouse:
                    ledger.write(record.advanced("failed", f"batch {batch.describe()}: {failure}"), warehouse)
                raise DbtFailed(
                    f"backfill {backfill_id}: batch {batch.describe()} failed ({failure}); "
                    f"{len(result.ran) + len(result.skipped)} of {len(planned)} batch(es) done and kept; "
                    f"fix the cause and continue with --resume, or undo the whole backfill: "
                    f"steward rollback --deploy-id {backfill_id} --target {context.project.target_name}")
            journal.write("batch_done", batch)
            faults.reached("backfill.batch-done", str(batch.number))
            result.ran.append(batch)
            tests = [n for n in outcome.nodes if n.resource_type in TEST_TYPES]
            echo(f"{label} done in {time.monotonic() - began:.1f}s; tests {len(tests)}/{len(tests)} passed")
        journal.write("finished")
        with opened(context.project.connection) as warehouse:
            ledger.write(record.advanced("succeeded", f"backfill {window}"), warehouse)
    return result


def _start(context: Context, ledger: Ledger, journal: Checkpoints, result: BackfillResult,
           options: BackfillOptions, resumed: DeployRecord | None) -> DeployRecord:
    """Journal the start; before the first batch of a new backfill, make its rollback point. From here until it
    succeeds or a batch fails, the backfill is unfinished: killed, it waits for `recover` or `--resume`."""
    journal.write("started", detail="resumed" if result.resumed else None)
    git = context.environment.git
    now = datetime.now(timezone.utc)
    with opened(context.project.connection) as warehouse:
        record = resumed
        if record is None:
            record = ledger.write(DeployRecord(
                deploy_id=result.backfill_id, project=context.project.name, target=context.project.target_name,
                tier=context.tier, adapter=context.project.adapter_type, host=socket.gethostname(), pid=os.getpid(),
                user=getpass.getuser(), started_at=timestamp(now),
                keep_until=timestamp(now + context.policy.rollback_retention),
                git_branch=git.branch, git_sha=git.sha, selection=options.select,
                # A failed batch is left as built for --resume: a failed backfill is not a deploy to recover.
                auto_rollback=False, relations=(str(result.target.relation),),
            ).advanced("planned", f"backfill of {result.target.name}"), warehouse)
        store = RollbackStore(warehouse, context.policy.rollback_schema)
        store.ensure()
        if not store.entries(result.backfill_id):
            store.create(result.backfill_id, [result.target.relation])
        # The detail is the window, so the message that stops other deploys can say how to resume this one.
        window = f"--start '{options.start}' --end '{options.end}' --batch-size {options.batch_size}"
        return ledger.write(record.advanced("backfilling", window), warehouse)


def _run_batch(context: Context, invoker: DbtInvoker, journal: Checkpoints, target: Target,
               batch: Batch, manifest: Any) -> DbtOutcome:
    journal.write("batch_started", batch)
    if target.mode == "window":
        with opened(context.project.connection) as warehouse:
            _delete_window(warehouse, target, batch)
    # The runner's connection is closed while dbt builds: DuckDB admits one writer.
    try:
        return invoker.invoke(["build"], batch_args(target, batch), manifest=manifest)
    except Exception as exc:
        return DbtOutcome(command="build", success=False, error=f"dbt raised: {exc!r}")


def _delete_window(warehouse: Warehouse, target: Target, batch: Batch) -> None:
    """The delete half of the batch's delete+insert; the build inserts the window again."""
    if warehouse.relation_kind(target.relation) != "table" or target.event_time is None:
        return
    p = warehouse.param
    column = warehouse.quote(target.event_time)
    warehouse.execute(f"delete from {warehouse.qualified(target.relation)} where {column} >= cast({p} as timestamp) "
                      f"and {column} < cast({p} as timestamp)", (_iso(batch.start), _iso(batch.end)))


def describe_plan(result: BackfillResult) -> Iterator[str]:
    target = result.target
    yield (f"Backfill {target.name} ({target.mode}) -> {target.relation}: {len(result.batches)} batch(es), "
           f"{len(result.skipped)} already done")
    for batch in result.batches:
        yield f"  {batch.number:>3} {batch.describe()}{'  done' if batch in result.skipped else ''}"


def to_json(result: BackfillResult) -> dict[str, Any]:
    return {"backfill_id": result.backfill_id, "model": result.target.name, "mode": result.target.mode,
            "relation": str(result.target.relation), "resumed": result.resumed,
            "batches": [batch.describe() for batch in result.batches],
            "skipped": [batch.describe() for batch in result.skipped],
            "ran": [batch.describe() for batch in result.ran]}

"""Test-only fault injection: stop steward at a named step, deterministically, to prove that nothing is lost.

Armed by one environment variable, never by anything else: `STEWARD_TEST_FAULT=<action>@<point>`. Unset (as it
is everywhere outside steward's own test suite) every hook below is one dictionary lookup and does nothing;
set, the CLI says so on its first line, so it cannot act unnoticed.

Actions:
- `kill`: the process sends itself SIGKILL at the point, as `kill -9` or a lost machine would stop it;
- `disconnect` (PostgreSQL): the warehouse session in use at the point is terminated by the server, as a
  dropped connection would end it, and steward carries on as it then would.

Points: one of `POINTS` (steward's own steps; `backfill.batch-done:<n>` names the n-th batch), or a dbt event
during a build, `dbt.<EventName>:<node unique id>[:<text of the event's message>]`, e.g.
`dbt.NodeFinished:model.shop.fct_orders` (the model built, its tests not yet run) or
`dbt.SQLQuery:model.shop.fct_daily_revenue:drop table if exists` (dbt about to drop the model's __dbt_backup).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from steward.errors import BadInput

VARIABLE = "STEWARD_TEST_FAULT"
ACTIONS = ("kill", "disconnect")
POINTS = {
    "rollback-point.copied": "a rollback point's copies made, its transaction not committed",
    "deploy.snapshotted": "the rollback point made and journalled, the build not started",
    "deploy.succeeded": "a deploy journalled as succeeded, its state and pruning not done",
    "restore.moved": "a restore's renames, grants and comments done, its transaction not committed",
    "restore.committed": "a restore committed, not journalled",
    "publish.swapped": "a blue-green publish swapped, its transaction not committed",
    "publish.committed": "a blue-green publish committed, not journalled",
    "backfill.batch-done": "a backfill batch checkpointed as done (backfill.batch-done:<n>: the n-th batch)",
}
DBT_EVENT = "dbt."


@dataclass(frozen=True)
class Fault:
    action: str
    point: str  # a key of POINTS, or dbt.<EventName>
    qualifier: str | None = None  # the batch number, or the dbt node's unique id
    text: str | None = None  # dbt events: a text the event's message must contain

    def matches(self, point: str, qualifier: str | None) -> bool:
        return self.point == point and self.qualifier in (None, qualifier)


def armed(env: Mapping[str, str] = os.environ) -> Fault | None:
    """The armed fault, None when the variable is unset; BadInput (exit 2) when it names no known fault."""
    spec = env.get(VARIABLE)
    return parse(spec) if spec else None


def parse(spec: str) -> Fault:
    action, at, where = spec.partition("@")
    point, _, rest = where.partition(":")
    qualifier, _, text = rest.partition(":") if point.startswith(DBT_EVENT) else (rest, "", "")
    fault = Fault(action, point, qualifier or None, text or None)
    known = point in POINTS or (point.startswith(DBT_EVENT) and len(point) > len(DBT_EVENT) and qualifier)
    if not at or action not in ACTIONS or not known:
        raise BadInput(f"{VARIABLE}: {spec!r} is not <action>@<point> with an action of {', '.join(ACTIONS)} and a "
                       f"point of {', '.join(POINTS)} or dbt.<EventName>:<node unique id>[:<text>] (test use only)")
    if action == "disconnect" and point.startswith(DBT_EVENT):
        raise BadInput(f"{VARIABLE}: disconnect needs a steward step (its session), not a dbt event")
    return fault


def reached(point: str, qualifier: str | None = None, warehouse: Any = None) -> None:
    """A named step: strike when the armed fault names it. `warehouse` is the session a disconnect ends."""
    spec = os.environ.get(VARIABLE)
    if spec:
        fault = parse(spec)
        if fault.matches(point, qualifier):
            _strike(fault, warehouse)


def dbt_callbacks() -> list[Callable[[Any], None]]:
    """The dbt event callback of a fault armed at a dbt event; none otherwise."""
    spec = os.environ.get(VARIABLE)
    if not spec:
        return []
    fault = parse(spec)
    if not fault.point.startswith(DBT_EVENT):
        return []
    event_name = fault.point[len(DBT_EVENT):]

    def on_event(event: Any) -> None:
        node = getattr(event.data, "node_info", None)
        if (event.info.name == event_name and getattr(node, "unique_id", None) == fault.qualifier
                and (fault.text is None or fault.text in event.info.msg)):
            _strike(fault, None)

    return [on_event]


def _strike(fault: Fault, warehouse: Any) -> None:
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if getattr(warehouse, "adapter_type", None) != "postgres":
        raise RuntimeError(f"{VARIABLE}: disconnect at {fault.point} needs a PostgreSQL session")
    with suppress(Exception):  # the server ends the session while answering: that is the fault
        warehouse.execute("select pg_terminate_backend(pg_backend_pid())")

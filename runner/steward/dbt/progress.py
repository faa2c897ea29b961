"""Live progress of a dbt invocation, fed by dbt's event callbacks.

One line per finished node with its index, status, time and the running counts. On a terminal (and
not in CI) the lines overwrite each other, and only problems stay on screen; elsewhere every line is
printed plainly, so CI logs read top to bottom. An invocation that is a step of its own (DbtInvoker's
`on_step`, e.g. the refresh after a blue-green publish) is announced on a line of its own and counted
from 1 against its own total.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from steward.redact import redact_text

# Events that announce how many nodes the run has; LogTestResult names it num_models.
_TOTAL_EVENTS = frozenset({"LogStartLine", "LogModelResult", "LogSeedResult", "LogSnapshotResult",
                           "LogNodeNoOpResult", "SkippingDetails"})
_PROBLEMS = frozenset({"error", "fail", "runtime error", "warn", "skipped"})
_OK = frozenset({"success", "pass", "no-op"})


@dataclass
class Progress:
    """Call it with each dbt event (DbtInvoker(callbacks=[progress])); call `close()` when dbt returns."""

    stream: TextIO
    live: bool  # one updating line (a terminal outside CI) rather than plain lines
    secrets: tuple[str, ...] = ()
    clock: Callable[[], float] = time.monotonic
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    started: float | None = None
    _line_open: bool = False
    # dbt calls back from its worker threads: one node's bookkeeping and line at a time.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: Any) -> None:
        name = event.info.name
        data = event.data
        if self.started is None:
            self.started = self.clock()
        if name in _TOTAL_EVENTS and getattr(data, "total", 0):
            self.total = max(self.total, int(data.total))
        elif name == "LogTestResult" and getattr(data, "num_models", 0):
            self.total = max(self.total, int(data.num_models))
        if name == "NodeFinished":
            node = data.node_info
            self._finished(node.unique_id, data.run_result.status or node.node_status,
                           float(data.run_result.execution_time or 0.0), int(data.run_result.num_failures or 0))
        elif name == "SkippingDetails":
            self._finished(data.node_info.unique_id, "skipped", 0.0, 0)

    def step(self, label: str) -> None:
        """Announce a step of its own; the nodes that follow are counted from 1 against its total."""
        with self._lock:
            self.close()
            self.stream.write(redact_text(f"steward: {label}", self.secrets) + "\n")
            self.stream.flush()
            self.total, self.counts, self.seen, self.started = 0, {}, set(), None

    def _finished(self, unique_id: str, status: str, seconds: float, failures: int) -> None:
        with self._lock:
            self._record(unique_id, status, seconds, failures)

    def _record(self, unique_id: str, status: str, seconds: float, failures: int) -> None:
        # Hooks (operation.*) are counted by dbt apart from the graph's nodes: index/total are the nodes'.
        if not unique_id or unique_id.startswith("operation.") or unique_id in self.seen:
            return
        self.seen.add(unique_id)
        self.counts[status] = self.counts.get(status, 0) + 1
        done = len(self.seen)
        ok = sum(count for key, count in self.counts.items() if key in _OK)
        bad = sum(count for key, count in self.counts.items() if key in _PROBLEMS)
        elapsed = self.clock() - (self.started or self.clock())
        rows = f" ({failures} failing rows)" if failures else ""
        width = len(str(self.total or done))
        line = (f"[{done:>{width}}/{self.total or '?'}] {status:<7} {unique_id}{rows} {seconds:.2f}s"
                f" | {ok} ok, {bad} not ok | {elapsed:.1f}s")
        self._emit(redact_text(line, self.secrets), keep=status in _PROBLEMS)

    def _emit(self, line: str, keep: bool) -> None:
        if not self.live:
            self.stream.write(line + "\n")
        elif keep:
            self.stream.write("\r\x1b[K" + line + "\n")
            self._line_open = False
        else:
            self.stream.write("\r\x1b[K" + line)
            self._line_open = True
        self.stream.flush()

    def close(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False

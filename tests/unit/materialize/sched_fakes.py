"""Test doubles for the scheduler tests: a clock that moves only when told, and a runner
that records what it was asked to do (and fails when told to)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from featurestore.materialize.due import RetryPolicy
from featurestore.materialize.history import JobHistory
from featurestore.materialize.leases import FileLeases
from featurestore.materialize.result import ViewMaterialization
from featurestore.materialize.runner import JobContext

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class Clock:
    """A controllable clock: ``clock()`` is the time, ``advance`` moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


@dataclass
class FakeRunner:
    """Records each call; views in ``failing`` raise; tracks the most calls at once.
    Keeps a watermark per view like the real runner: advanced to ``end`` on success."""

    clock: Clock
    failing: set[str] = field(default_factory=set)
    calls: list[tuple[str, datetime | None, datetime]] = field(default_factory=list)
    marks: dict[str, datetime] = field(default_factory=dict)
    gate: threading.Event | None = None  # when given: calls wait for it (see ``blocked``)
    blocked: set[str] | None = None  # views that wait for the gate (None: every view)
    max_parallel: int = 0
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, view: str, start: datetime | None, end: datetime) -> ViewMaterialization:
        with self._lock:
            self.calls.append((view, start, end))
            self._active += 1
            self.max_parallel = max(self.max_parallel, self._active)
        try:
            if self.gate is not None and (self.blocked is None or view in self.blocked):
                self.gate.wait(10)
            if view in self.failing:
                raise RuntimeError(f"source of {view} is unreachable")
            begin = start if start is not None else self.marks.get(view, T0)
            with self._lock:
                self.marks[view] = max(end, self.marks.get(view, end))
            return ViewMaterialization(view, begin, end, rows_written=10, seconds=0.0)
        finally:
            with self._lock:
                self._active -= 1


def make_ctx(
    tmp_path: Path,
    views: Mapping[str, str],
    clock: Clock,
    runner: FakeRunner | None = None,
    policy: RetryPolicy | None = None,
) -> JobContext:
    """A job context on local files under ``tmp_path`` with the fake clock and runner."""
    runner = runner if runner is not None else FakeRunner(clock)
    return JobContext(
        history=JobHistory(str(tmp_path / "state" / "jobs")),
        leases=FileLeases(tmp_path / "state" / "leases", clock=clock.seconds),
        runner=runner,
        views=lambda: dict(views),
        watermark=runner.marks.get,
        policy=policy or RetryPolicy(),
        clock=clock,
    )

"""Backfill: materialize a view over a long past window, chunk by chunk, resumably.

Each chunk is one job (trigger ``backfill``) in the history. Running the same backfill
again skips the chunks that already succeeded, so an interrupted backfill picks up where
it stopped. Chunks share their boundary instant; writing a value twice is harmless, as the
online store keeps the latest row per entity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from featurestore.errors import JobError, NotFoundError
from featurestore.materialize.history import JobRecord
from featurestore.materialize.runner import JobContext, Plan, run_job

DEFAULT_CHUNK = timedelta(days=1)
LEASE_WAIT = 600.0  # seconds to wait for a view another runner is materializing
_LEASE_POLL = 2.0

Window = tuple[datetime, datetime]


@dataclass
class BackfillReport:
    """What a backfill did: chunks run, chunks skipped (already done) and the failure."""

    chunks: list[Window]
    ran: list[JobRecord] = field(default_factory=list)
    skipped: list[Window] = field(default_factory=list)
    failed: JobRecord | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None


def chunk_windows(start: datetime, end: datetime, size: timedelta) -> list[Window]:
    """``[start, end]`` cut into windows of ``size`` (the last one may be shorter)."""
    if size <= timedelta(0):
        raise JobError(f"backfill chunk must be a positive duration, got {size}")
    if start >= end:
        msg = (
            f"backfill window is empty: start {start.isoformat()} is not before "
            f"end {end.isoformat()}"
        )
        raise JobError(msg)
    windows = []
    lo = start
    while lo < end:
        hi = min(lo + size, end)
        windows.append((lo, hi))
        lo = hi
    return windows


def backfill(
    ctx: JobContext,
    view: str,
    start: datetime,
    end: datetime,
    chunk: timedelta = DEFAULT_CHUNK,
    *,
    on_chunk: Callable[[Window, JobRecord | None], None] | None = None,
    lease_wait: float = LEASE_WAIT,
    sleep: Callable[[float], None] = time.sleep,
) -> BackfillReport:
    """Run ``view`` over ``[start, end]`` in chunks, skipping chunks already backfilled;
    stop at the first chunk that fails. ``on_chunk(window, record)`` reports each chunk
    (``record`` None when skipped)."""
    known = ctx.views()
    if view not in known:
        allowed = ", ".join(sorted(known)) or "none"
        msg = f"backfill: no online feature view named {view!r}; online views: {allowed}"
        raise NotFoundError(msg)
    report = BackfillReport(chunk_windows(start, end, chunk))
    for window in report.chunks:
        record = _run_chunk(ctx, view, window, lease_wait, sleep)
        if record is None:
            report.skipped.append(window)
        else:
            report.ran.append(record)
        if on_chunk is not None:
            on_chunk(window, record)
        if record is not None and record.status == "failed":
            report.failed = record
            break
    return report


def _run_chunk(
    ctx: JobContext, view: str, window: Window, lease_wait: float, sleep: Callable[[float], None]
) -> JobRecord | None:
    def plan() -> Plan | None:
        done = ctx.history.jobs(view, trigger="backfill")
        same = [r for r in done if (r.start, r.end) == window]
        if any(r.status == "succeeded" for r in same):
            return None
        failed = sum(r.status == "failed" and not r.abandoned for r in same)
        return Plan(end=window[1], start=window[0], attempt=failed + 1)

    waited = 0.0
    while True:
        outcome = run_job(ctx, view, "backfill", plan)
        if outcome == "done":
            return None
        if isinstance(outcome, JobRecord):
            return outcome
        if waited >= lease_wait:
            msg = (
                f"backfill: view {view!r} has been materialized by another runner for over "
                f"{lease_wait:.0f}s; try again later (chunks done so far are kept)"
            )
            raise JobError(msg)
        sleep(_LEASE_POLL)
        waited += _LEASE_POLL

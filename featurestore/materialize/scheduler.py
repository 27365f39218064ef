"""The scheduler: run each due view's incremental materialization, on a bounded pool.

``run_due`` is one pass (``featurestore jobs run-due``, for cron, Kubernetes CronJobs or
Airflow); ``Scheduler`` is the long-running loop (``featurestore scheduler``). Both decide
with ``due.decide`` and run through ``runner.run_job``, so any number of them, in any
number of processes, never run the same view at the same time nor the same window twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from featurestore.errors import FeatureStoreError, JobError
from featurestore.materialize.due import Decision, Progress, decide
from featurestore.materialize.history import JobRecord
from featurestore.materialize.runner import JobContext, Plan, Skipped, as_context, run_job

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 4
DEFAULT_POLL = 10.0  # seconds between passes at most
_STOP_CHECK = 1.0  # seconds between checks for stop() while waiting


@dataclass(frozen=True)
class ViewPlan:
    """One scheduled view, where it stands and what is to be done about it at ``now``."""

    view: str
    schedule: str
    progress: Progress
    decision: Decision


def plan_views(ctx: JobContext, now: datetime) -> list[ViewPlan]:
    """Every scheduled view with its decision at ``now``, by name."""
    plans = []
    for view, schedule in sorted(ctx.views().items()):
        if not schedule:
            continue
        progress = ctx.progress(view)
        plans.append(
            ViewPlan(view, schedule, progress, decide(schedule, progress, now, ctx.policy))
        )
    return plans


def run_scheduled(ctx: JobContext, view: str, schedule: str) -> JobRecord | Skipped:
    """Run ``view`` up to its schedule's latest tick if it is (still) due."""

    def plan() -> Plan | None:
        progress = ctx.progress(view)
        decision = decide(schedule, progress, ctx.clock(), ctx.policy)
        if not decision.due:
            return None
        return Plan(
            end=decision.target,
            expected_start=progress.done_until,
            attempt=len(progress.failures) + 1,
        )

    return run_job(ctx, view, "schedule", plan)


def run_manual(ctx: JobContext, view: str, end: datetime) -> JobRecord | Skipped:
    """Run ``view`` incrementally up to ``end`` now, whatever its schedule says."""

    def plan() -> Plan | None:
        progress = ctx.progress(view)
        if progress.done_until is not None and progress.done_until >= end:
            return None
        return Plan(end=end, expected_start=progress.done_until, attempt=len(progress.failures) + 1)

    return run_job(ctx, view, "manual", plan)


def run_due(
    source: FeatureStore | JobContext,
    now: datetime | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
) -> list[JobRecord]:
    """One pass: run every view due at ``now`` (default: the clock), at most ``workers``
    at a time, and return the jobs that ran (failed ones included). Views another runner
    holds are skipped. A view whose job could not even start (the lease store or the
    history unreachable) does not stop the others; a ``JobError`` naming each such view
    is raised once the pass is over.
    """
    ctx = as_context(source, now)
    due = [p for p in plan_views(ctx, ctx.clock()) if p.decision.due]
    if not due:
        return []
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fs-job") as pool:
        futures = [pool.submit(run_scheduled, ctx, p.view, p.schedule) for p in due]
        outcomes = []
        for future, p in zip(futures, due, strict=True):
            try:
                outcomes.append(future.result())
            except FeatureStoreError as exc:
                errors.append(f"{p.view}: {exc}")
    if errors:
        ran = sum(isinstance(o, JobRecord) for o in outcomes)
        msg = f"{len(errors)} view(s) could not run ({ran} job(s) ran): " + "; ".join(errors)
        raise JobError(msg)
    return [o for o in outcomes if isinstance(o, JobRecord)]


class Scheduler:
    """The long-running loop: each pass submits due views (not already running here) to a
    pool of ``workers`` threads, then waits until the next one is due, ``poll`` seconds at
    most, or a job finishes. ``stop()`` (SIGTERM/SIGINT in the CLI) lets running jobs end
    and submits no more.

    ``wait(seconds)`` defaults to a real wait; tests pass one that moves a fake clock.
    """

    def __init__(
        self,
        ctx: JobContext,
        *,
        workers: int = DEFAULT_WORKERS,
        poll: float = DEFAULT_POLL,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self.ctx = ctx
        self.poll = poll
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fs-job")
        self._workers = max(1, workers)
        self._inflight: dict[str, Future[JobRecord | Skipped | None]] = {}
        self._paused: dict[str, datetime] = {}  # view -> not before (lease busy elsewhere)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._wait = wait if wait is not None else self._sliced_wait

    def step(self) -> float:
        """One pass: submit what is due; return the seconds until the next pass."""
        now = self.ctx.clock()
        try:
            plans = plan_views(self.ctx, now)
        except Exception:  # the registry or history is unreachable: try again later
            log.exception("could not read the views to schedule; retrying in %.0fs", self.poll)
            return self.poll
        waiting = False  # something is due but has to wait for a free worker
        with self._lock:
            for p in plans:
                if not p.decision.due or p.view in self._inflight:
                    continue
                if self._paused.get(p.view, now) > now:
                    continue
                if self._stopping.is_set() or len(self._inflight) >= self._workers:
                    waiting = True
                    continue
                self._inflight[p.view] = self._pool.submit(self._job, p.view, p.schedule)
            upcoming = [
                max(p.decision.next_run, self._paused.get(p.view, now))
                for p in plans
                if p.view not in self._inflight
            ]
        until = min(((t - now).total_seconds() for t in upcoming), default=self.poll)
        return self.poll if waiting else min(self.poll, max(until, 0.0))

    def run(self) -> None:
        """Pass after pass until ``stop()``; then wait for running jobs and return."""
        while not self._stopping.is_set():
            timeout = self.step()
            if self._stopping.is_set():
                break
            self._wait(timeout)
            self._wake.clear()
        self.close()

    def stop(self) -> None:
        """Submit nothing more; ``run`` returns once the running jobs end. Safe to call
        from a signal handler (it only sets a flag the loop checks every second)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _sliced_wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, _STOP_CHECK)):
                return

    def wait_idle(self) -> None:
        """Block until every submitted job has ended."""
        with self._lock:
            futures = list(self._inflight.values())
        wait_all(futures)

    def close(self) -> None:
        """Wait for the running jobs and shut the pool down."""
        self._pool.shutdown(wait=True)

    def _job(self, view: str, schedule: str) -> JobRecord | Skipped | None:
        outcome: JobRecord | Skipped | None = None
        try:
            outcome = run_scheduled(self.ctx, view, schedule)
            if isinstance(outcome, JobRecord):
                _log_job(outcome)
        except Exception:  # one view's trouble must never stop the others
            log.exception("the job of %s could not run", view)
        finally:
            with self._lock:
                self._inflight.pop(view, None)
                if not isinstance(outcome, JobRecord):  # busy elsewhere, or broken: not now
                    self._paused[view] = self.ctx.clock() + timedelta(seconds=self.poll)
            self._wake.set()
        return outcome


def _log_job(job: JobRecord) -> None:
    window = f"{_when(job.start)} → {_when(job.end)}"
    if job.status == "succeeded":
        log.info("%s: %s rows, %s (job %s)", job.view, f"{job.rows_written:,}", window, job.id)
    else:
        log.warning("%s failed, attempt %d: %s (job %s)", job.view, job.attempt, job.error, job.id)


def _when(moment: datetime | None) -> str:
    return "watermark" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"

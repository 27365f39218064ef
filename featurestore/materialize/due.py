"""When a scheduled view is due, over which window, and when it retries after a failure.

A view's schedule fires at ticks (cron times, or whole multiples of an ``@every`` interval).
A view is *done until* its watermark: the end of its last fully successful window (it
moves only on success, and resets when the view's stored layout changes, which makes the
view due again at once). It is due when the schedule's latest tick at or before now is
later than that: the window then runs from where it is done up to that tick. Many missed
ticks (the scheduler was down) therefore make one window, not one per tick.

After failures a view waits ``base * 2 ** (failures - 1)`` (capped) from its last failure
before it is tried again, and counts as failing after ``failing_after`` failures in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from featurestore.definitions.schedule import latest_tick, next_tick
from featurestore.materialize.history import JobHistory, JobRecord

_MAX_STREAK = 50  # failures counted at most (the backoff is capped long before)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between attempts at a failing view."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    failing_after: int = 3

    def backoff(self, failures: int) -> timedelta:
        """The wait after ``failures`` failures in a row (0 for none)."""
        if failures <= 0:
            return timedelta(0)
        return min(self.cap, self.base * 2 ** min(failures - 1, 32))


@dataclass(frozen=True)
class Progress:
    """What the history and the watermark say about one view."""

    done_until: datetime | None  # the watermark: end of the last successful window
    last_success: JobRecord | None  # last successful scheduled or manual job
    failures: tuple[JobRecord, ...]  # failed jobs since then, newest first
    running: JobRecord | None  # a job recorded as running, if any


@dataclass(frozen=True)
class Decision:
    """What the scheduler should do about one view at ``now``."""

    target: datetime  # the schedule's latest tick at or before now: the window's end
    due: bool
    next_run: datetime  # now, when due; else the next tick or the retry time
    retry_at: datetime | None  # when a failed view may be tried again
    failing: bool
    lag: timedelta | None  # how far done_until is behind target (0 when on schedule)


def read_progress(history: JobHistory, view: str, watermark: datetime | None) -> Progress:
    """Walk the view's jobs newest first until its last success (backfills and abandoned
    jobs do not count: they say nothing about the schedule)."""
    last_success: JobRecord | None = None
    failures: list[JobRecord] = []
    running: JobRecord | None = None
    for record in history.newest_first(view):
        if record.status == "running":
            running = running or record
            continue
        if record.trigger == "backfill" or record.abandoned:
            continue
        if record.status == "succeeded":
            last_success = record
            break
        failures.append(record)
        if len(failures) >= _MAX_STREAK:
            break
    return Progress(
        done_until=watermark,
        last_success=last_success,
        failures=tuple(failures),
        running=running,
    )


def decide(schedule: str, progress: Progress, now: datetime, policy: RetryPolicy) -> Decision:
    """Whether the view is due at ``now``, and when it runs next otherwise."""
    target = latest_tick(schedule, now)
    done = progress.done_until
    pending = done is None or done < target
    retry_at = None
    if progress.failures and progress.failures[0].ended is not None:
        retry_at = progress.failures[0].ended + policy.backoff(len(progress.failures))
    if pending:
        due = retry_at is None or now >= retry_at
        next_run = now if due or retry_at is None else retry_at
    else:
        due = False
        next_run = next_tick(schedule, done if done is not None else now)
    lag = None if done is None else max(timedelta(0), target - done)
    return Decision(
        target=target,
        due=due,
        next_run=next_run,
        retry_at=retry_at if pending else None,
        failing=len(progress.failures) >= policy.failing_after,
        lag=lag,
    )

"""Freshness per view: last success, watermark, lag against the schedule, next run.

``view_status`` is what ``featurestore status`` prints and what the server exports as
metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from featurestore.materialize.due import decide
from featurestore.materialize.runner import JobContext, as_context

if TYPE_CHECKING:
    from featurestore.store import FeatureStore


@dataclass(frozen=True)
class ViewStatus:
    """Where one online view stands at ``now``."""

    view: str
    schedule: str  # "" when the view has no schedule
    watermark: datetime | None  # end of the last materialized window (None: never)
    last_success: datetime | None  # when the last successful scheduled/manual job ended
    rows_written: int | None  # rows that job wrote
    freshness: timedelta | None  # now - end of the last successful window
    lag: timedelta | None  # how far that end is behind the schedule's latest tick (0: on time)
    next_run: datetime | None  # None without a schedule
    failures: int  # failed jobs in a row
    failing: bool  # failures reached the retry policy's limit
    last_error: str | None
    running: bool  # a job is recorded as running


def statuses(ctx: JobContext, now: datetime) -> list[ViewStatus]:
    """The status of every view of ``ctx``, by name."""
    out = []
    for view, schedule in sorted(ctx.views().items()):
        progress = ctx.progress(view)
        done = progress.done_until  # the watermark
        decision = decide(schedule, progress, now, ctx.policy) if schedule else None
        last = progress.last_success
        out.append(
            ViewStatus(
                view=view,
                schedule=schedule,
                watermark=done,
                last_success=last.ended if last else None,
                rows_written=last.rows_written if last else None,
                freshness=now - done if done is not None else None,
                lag=decision.lag if decision else None,
                next_run=decision.next_run if decision else None,
                failures=len(progress.failures),
                failing=len(progress.failures) >= ctx.policy.failing_after,
                last_error=progress.failures[0].error if progress.failures else None,
                running=progress.running is not None,
            )
        )
    return out


def view_status(source: FeatureStore | JobContext, now: datetime | None = None) -> list[ViewStatus]:
    """The status of every online view at ``now`` (default: the clock), by name.

    >>> view_status(FeatureStore("feature_repo"))[0].lag             # doctest: +SKIP
    datetime.timedelta(0)
    """
    ctx = as_context(source, now)
    return statuses(ctx, ctx.clock())

"""Running one job: take the view's lease, check the work is still needed, record, run.

The scheduler, ``jobs run-due`` and ``backfill`` all go through ``run_job``. The order of
steps is what keeps two runners from doing the same work: the check happens *after* the
lease is taken, and the outcome is recorded *before* it is released, so a runner that gets
the lease next sees the work done (or the watermark moved) and skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Literal, Protocol

from featurestore.materialize.due import Progress, RetryPolicy, read_progress
from featurestore.materialize.history import ABANDONED, JobHistory, JobRecord, Trigger
from featurestore.materialize.leases import DEFAULT_TTL, Leases, hold, open_leases
from featurestore.materialize.result import ViewMaterialization

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

log = logging.getLogger(__name__)

_STALE_SCAN = 100  # newest jobs of a view checked for an abandoned 'running' record
Skipped = Literal["busy", "done"]  # lease held elsewhere / work no longer needed


class Runner(Protocol):
    """Materialize one view over ``[start, end]``; ``start=None`` means from its watermark."""

    def __call__(self, view: str, start: datetime | None, end: datetime) -> ViewMaterialization:
        """Run one view; report failure in the result's ``error`` (or raise)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def store_runner(store: FeatureStore) -> Runner:
    """The real runner: ``store.materialize_incremental`` or ``store.materialize``."""

    def run(view: str, start: datetime | None, end: datetime) -> ViewMaterialization:
        if start is None:
            results = store.materialize_incremental(end, views=[view])
        else:
            results = store.materialize(start, end, views=[view])
        return next(r for r in results if r.view == view)

    return run


@dataclass
class JobContext:
    """What running jobs needs: where history goes, the leases, the runner and a clock."""

    history: JobHistory
    leases: Leases
    runner: Runner
    views: Callable[[], Mapping[str, str]]  # online view name -> schedule ("": none)
    watermark: Callable[[str], datetime | None]  # view name -> its watermark
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    lease_ttl: float = DEFAULT_TTL
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def for_store(
        cls,
        store: FeatureStore,
        *,
        runner: Runner | None = None,
        leases: Leases | None = None,
        policy: RetryPolicy | None = None,
        lease_ttl: float = DEFAULT_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> JobContext:
        """The context of a feature repo: history and leases kept with its registry."""
        from featurestore.materialize.watermarks import get_watermark

        return cls(
            history=JobHistory(store.registry.state_url("jobs")),
            leases=leases if leases is not None else open_leases(store),
            runner=runner if runner is not None else store_runner(store),
            views=lambda: online_views(store),
            watermark=lambda view: get_watermark(store, view),
            policy=policy or RetryPolicy(),
            lease_ttl=lease_ttl,
            clock=clock,
        )

    def progress(self, view: str) -> Progress:
        return read_progress(self.history, view, self.watermark(view))


def as_context(source: FeatureStore | JobContext, now: datetime | None = None) -> JobContext:
    """``source`` as a job context (a store gets its default one), its clock fixed at
    ``now`` when given."""
    ctx = source if isinstance(source, JobContext) else JobContext.for_store(source)
    if now is None:
        return ctx
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return replace(ctx, clock=lambda: moment)


def online_views(store: FeatureStore) -> dict[str, str]:
    """Applied online feature views, name -> schedule ("" for none)."""
    views = store.definitions().feature_views.values()
    return {v.name: v.schedule for v in views if v.online}


@dataclass(frozen=True)
class Plan:
    """The work a job does: the window ``[start, end]`` (``start=None``: from the watermark,
    expected to be ``expected_start``) and which attempt at the view this is."""

    end: datetime
    start: datetime | None = None
    expected_start: datetime | None = None
    attempt: int = 1


def run_job(
    ctx: JobContext, view: str, trigger: Trigger, plan: Callable[[], Plan | None]
) -> JobRecord | Skipped:
    """Run one job under the view's lease. ``plan`` is called under the lease and returns
    the work, or None if it is already done."""
    with hold(ctx.leases, view, ctx.lease_ttl) as lease:
        if lease is None:
            return "busy"
        abandon_stale(ctx, view)
        work = plan()
        if work is None:
            return "done"
        record = ctx.history.start(
            view,
            work.start if work.start is not None else work.expected_start,
            work.end,
            trigger,
            now=ctx.clock(),
            attempt=work.attempt,
        )
        try:
            result = ctx.runner(view, work.start, work.end)
        except Exception as exc:  # one failing view must never stop the others
            log.warning("job %s (%s) failed", record.id, view, exc_info=True)
            return ctx.history.fail(record, f"{type(exc).__name__}: {exc}", now=ctx.clock())
        return ctx.history.finish(record, result, now=ctx.clock())


def abandon_stale(ctx: JobContext, view: str) -> None:
    """Mark the view's 'running' jobs failed: we hold its lease, so their runner is gone."""
    for record in islice(ctx.history.newest_first(view), _STALE_SCAN):
        if record.status == "running":
            ctx.history.fail(record, ABANDONED, now=ctx.clock())

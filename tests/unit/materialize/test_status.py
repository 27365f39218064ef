"""``statuses``: per view last success, freshness, lag, next run and the failing flag."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sched_fakes import T0, Clock, FakeRunner, make_ctx

from featurestore.materialize.due import RetryPolicy
from featurestore.materialize.scheduler import run_due
from featurestore.materialize.status import statuses


def test_status_of_fresh_lagging_failing_and_unscheduled_views(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1, minutes=10))
    runner = FakeRunner(clock, failing={"broken"})
    views = {"fresh": "@hourly", "broken": "@hourly", "plain": "", "slow": "@daily"}
    policy = RetryPolicy(base=timedelta(minutes=1), failing_after=1)
    ctx = make_ctx(tmp_path, views, clock, runner, policy)
    run_due(ctx)
    clock.advance(hours=1)  # 02:10: the hourly views are one tick behind
    by_view = {s.view: s for s in statuses(ctx, clock())}
    fresh = by_view["fresh"]
    assert fresh.watermark == T0 + timedelta(hours=1)
    assert fresh.last_success == T0 + timedelta(hours=1, minutes=10)
    assert fresh.rows_written == 10
    assert fresh.freshness == timedelta(hours=1, minutes=10)
    assert fresh.lag == timedelta(hours=1)
    assert fresh.next_run == clock() and not fresh.failing
    broken = by_view["broken"]
    assert broken.failing and broken.failures == 1 and broken.watermark is None
    assert broken.last_error == "RuntimeError: source of broken is unreachable"
    assert broken.lag is None and broken.freshness is None
    plain = by_view["plain"]
    assert (plain.schedule, plain.next_run, plain.lag) == ("", None, None)
    slow = by_view["slow"]
    assert slow.lag == timedelta(0) and slow.next_run == T0 + timedelta(days=1)
    assert not any(s.running for s in by_view.values())

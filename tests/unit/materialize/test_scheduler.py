"""The scheduler with a fake runner and a controllable clock: no real waiting."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sched_fakes import T0, Clock, FakeRunner, make_ctx

from featurestore.definitions.schedule import latest_tick
from featurestore.materialize.due import RetryPolicy
from featurestore.materialize.history import ABANDONED
from featurestore.materialize.scheduler import Scheduler, run_due, run_manual
from featurestore.materialize.status import statuses

VIEWS = {"hourly": "@hourly", "quarter": "@every 15m", "daily": "@daily", "manual_only": ""}


def test_first_pass_runs_each_scheduled_view_once(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=10, minutes=20))
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, VIEWS, clock, runner)
    jobs = run_due(ctx)
    assert sorted((j.view, j.end, j.status, j.trigger) for j in jobs) == [
        ("daily", T0, "succeeded", "schedule"),
        ("hourly", T0 + timedelta(hours=10), "succeeded", "schedule"),
        ("quarter", T0 + timedelta(hours=10, minutes=15), "succeeded", "schedule"),
    ]
    assert all(start is None for _, start, _ in runner.calls)  # incremental: from watermark
    assert run_due(ctx) == []  # nothing more due at the same time
    clock.advance(minutes=10)  # 10:30: only the 15-minute view has a new tick
    assert [(j.view, j.end) for j in run_due(ctx)] == [
        ("quarter", T0 + timedelta(hours=10, minutes=30))
    ]


def test_catch_up_after_downtime_is_one_window(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, {"hourly": "@hourly"}, clock, runner)
    run_due(ctx)
    clock.advance(hours=7, minutes=59)  # down through 7 ticks
    [job] = run_due(ctx)
    assert job.end == T0 + timedelta(hours=8)
    assert len(runner.calls) == 2
    assert run_due(ctx) == []


def test_a_failing_view_does_not_block_the_others(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=3))
    runner = FakeRunner(clock, failing={"hourly"})
    ctx = make_ctx(tmp_path, VIEWS, clock, runner)
    jobs = {j.view: j for j in run_due(ctx)}
    assert jobs["hourly"].status == "failed"
    assert jobs["hourly"].error == "RuntimeError: source of hourly is unreachable"
    assert jobs["daily"].status == jobs["quarter"].status == "succeeded"


def test_retries_back_off_then_view_is_failing_then_recovers(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=3))
    runner = FakeRunner(clock, failing={"hourly"})
    policy = RetryPolicy(base=timedelta(minutes=1), cap=timedelta(minutes=10), failing_after=3)
    ctx = make_ctx(tmp_path, {"hourly": "@hourly"}, clock, runner, policy)
    attempts = [j.attempt for j in run_due(ctx)]
    clock.advance(seconds=59)
    assert run_due(ctx) == []  # 1 minute backoff not over
    clock.advance(seconds=1)
    attempts += [j.attempt for j in run_due(ctx)]
    clock.advance(seconds=119)
    assert run_due(ctx) == []  # doubled to 2 minutes
    clock.advance(seconds=1)
    attempts += [j.attempt for j in run_due(ctx)]
    assert attempts == [1, 2, 3]
    [status] = statuses(ctx, clock())
    assert status.failing and status.failures == 3
    assert status.next_run == clock() + timedelta(minutes=4)
    runner.failing.clear()
    clock.advance(minutes=4)
    [ok] = run_due(ctx)
    assert (ok.status, ok.attempt) == ("succeeded", 4)
    [status] = statuses(ctx, clock())
    assert not status.failing and status.failures == 0 and status.lag == timedelta(0)


def test_worker_pool_is_bounded(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    views = {f"v{i}": "@hourly" for i in range(6)}
    runner = FakeRunner(clock, gate=threading.Event())
    ctx = make_ctx(tmp_path, views, clock, runner)
    threading.Timer(0.2, runner.gate.set).start()  # type: ignore[union-attr]
    assert len(run_due(ctx, workers=2)) == 6
    assert 1 <= runner.max_parallel <= 2


def test_a_view_leased_elsewhere_is_skipped(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    ctx = make_ctx(tmp_path, {"a": "@hourly", "b": "@hourly"}, clock)
    token = ctx.leases.acquire("a", 30)
    assert token is not None
    assert [j.view for j in run_due(ctx)] == ["b"]
    clock.advance(seconds=31)  # the other holder crashed: its lease expires
    assert [j.view for j in run_due(ctx)] == ["a"]


def test_an_abandoned_job_is_marked_and_its_window_rerun(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    ctx = make_ctx(tmp_path, {"a": "@hourly"}, clock)
    ghost = ctx.history.start("a", None, T0 + timedelta(hours=1), "schedule", now=clock())
    [job] = run_due(ctx)  # no lease is held: the ghost's runner is gone
    assert ctx.history.get(ghost.id).error == ABANDONED
    assert (job.status, job.end, job.attempt) == ("succeeded", ghost.end, 1)


def test_manual_run_records_trigger_and_is_idempotent(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1, minutes=30))
    ctx = make_ctx(tmp_path, {"a": "@hourly"}, clock)
    job = run_manual(ctx, "a", clock())
    assert not isinstance(job, str) and job.trigger == "manual" and job.end == clock()
    assert run_manual(ctx, "a", clock()) == "done"
    assert run_due(ctx) == []  # 10:30 is past the 10:00 tick: nothing due


def test_scheduler_loop_runs_passes_until_stopped(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(minutes=5))
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, {"q": "@every 15m", "h": "@hourly"}, clock, runner)
    waits: list[float] = []

    def wait(seconds: float) -> None:  # a fake wait: lets jobs end, then moves the clock
        scheduler.wait_idle()
        waits.append(seconds)
        clock.advance(seconds=max(seconds, 1))
        if clock() > T0 + timedelta(hours=2):
            scheduler.stop()

    scheduler = Scheduler(ctx, workers=2, poll=600, wait=wait)
    scheduler.run()
    ends = sorted((v, e) for v, _, e in runner.calls)
    assert [e for v, e in ends if v == "h"] == [T0 + timedelta(hours=h) for h in range(3)]
    assert [e for v, e in ends if v == "q"] == [
        T0 + timedelta(minutes=m) for m in range(0, 121, 15)
    ]
    assert max(waits) <= 600


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.integers(min_value=0, max_value=60 * 60 * 7), min_size=1, max_size=12))
def test_windows_tile_time_without_gaps_or_overlaps(tmp_path_factory, steps: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Whatever the pattern of passes: each window starts where the previous ended, ends on
    a tick, and the last ends at the latest tick (the plain reference)."""
    tmp = tmp_path_factory.mktemp("tile")
    clock = Clock(T0 + timedelta(minutes=7))
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp, {"v": "@every 20m"}, clock, runner)
    for seconds in steps:
        clock.advance(seconds=seconds)
        run_due(ctx)
    jobs = sorted(ctx.history.jobs("v"), key=lambda j: j.id)
    ends = [j.end for j in jobs]
    assert ends == sorted(set(ends))  # strictly increasing: no window twice
    assert all(e == latest_tick("@every 20m", e) for e in ends)
    assert ends[-1] == latest_tick("@every 20m", clock())
    assert [j.start for j in jobs] == [T0, *ends[:-1]]  # each from the previous end


def test_scheduler_survives_an_unreadable_registry_and_sees_new_views(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(minutes=5))
    views: dict[str, str] = {"a": "@hourly"}
    broken = {"now": True}

    def read_views() -> dict[str, str]:
        if broken["now"]:
            raise OSError("registry bucket unreachable")
        return dict(views)

    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, {}, clock, runner)
    ctx.views = read_views
    scheduler = Scheduler(ctx, workers=1, poll=30)
    assert scheduler.step() == 30  # logged, retried after a poll interval
    broken["now"] = False
    scheduler.step()
    scheduler.wait_idle()
    views["b"] = "@every 5m"  # applied while the scheduler runs
    scheduler.step()
    scheduler.wait_idle()
    scheduler.close()
    assert [(v, e) for v, _, e in runner.calls] == [
        ("a", T0),
        ("b", T0 + timedelta(minutes=5)),
    ]


def test_step_waits_until_the_next_due_time(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(minutes=5))
    ctx = make_ctx(tmp_path, {"q": "@every 15m"}, clock)
    scheduler = Scheduler(ctx, workers=1, poll=3600)
    scheduler.step()
    scheduler.wait_idle()
    assert scheduler.step() == 10 * 60  # the next tick is at 00:15
    scheduler.close()


def test_a_hanging_view_does_not_hold_up_the_others(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    runner = FakeRunner(clock, gate=threading.Event(), blocked={"slow"})
    ctx = make_ctx(tmp_path, {"slow": "@hourly", "fast": "@hourly"}, clock, runner)
    scheduler = Scheduler(ctx, workers=2, poll=60)
    scheduler.step()
    try:
        # The slow view's worker records "running" on its own thread, possibly after the
        # fast view has finished: wait for both, then check the slow one is still held.
        deadline = time.monotonic() + 10
        while not (
            ctx.history.jobs(view="fast", status="succeeded")
            and ctx.history.jobs(view="slow", status="running")
        ):
            assert time.monotonic() < deadline, "the fast view never finished"
            time.sleep(0.01)
        assert [j.status for j in ctx.history.jobs(view="slow")] == ["running"]
    finally:
        assert runner.gate is not None
        runner.gate.set()
        scheduler.wait_idle()
        scheduler.close()
    assert [j.status for j in ctx.history.jobs(view="slow")] == ["succeeded"]


def test_run_due_reports_views_that_could_not_start(tmp_path: Path) -> None:
    """Leases in a Redis that is down: a view that cannot even take its lease is named in
    one error after the pass, and the other views still ran."""
    import redis

    from featurestore.errors import JobError
    from featurestore.materialize.leases import FileLeases, RedisLeases

    clock = Clock(T0 + timedelta(hours=1))
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, {"a": "@hourly", "b": "@hourly"}, clock, runner)
    down = RedisLeases(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), "x:")
    files = FileLeases(tmp_path / "leases", clock=clock.seconds)

    class Mixed:  # "a" is leased in the unreachable Redis, "b" in files
        def acquire(self, name: str, ttl: float) -> str | None:
            return (down if name == "a" else files).acquire(name, ttl)

        def renew(self, name: str, token: str, ttl: float) -> bool:
            return files.renew(name, token, ttl)

        def release(self, name: str, token: str) -> None:
            files.release(name, token)

    ctx.leases = Mixed()
    with pytest.raises(
        JobError, match=r"1 view\(s\) could not run \(1 job\(s\) ran\): a: .*Redis is unavailable"
    ):
        run_due(ctx)
    assert [v for v, _, _ in runner.calls] == ["b"]
    assert ctx.history.jobs(view="a") == []  # nothing recorded for a view that never started


def test_run_due_at_an_explicit_time(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    ctx = make_ctx(tmp_path, {"a": "@hourly"}, clock)
    [job] = run_due(ctx, T0 + timedelta(hours=5, minutes=1))  # `now` overrides the clock
    assert job.end == T0 + timedelta(hours=5)
    assert job.started == T0 + timedelta(hours=5, minutes=1)

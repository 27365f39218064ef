"""Backfill: chunking at its edges, each chunk a job, resuming after an interruption."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sched_fakes import T0, Clock, FakeRunner, make_ctx

from featurestore.errors import JobError, NotFoundError
from featurestore.materialize.backfill import backfill, chunk_windows

D = timedelta(days=1)


@pytest.mark.parametrize(
    ("length", "chunk", "expected"),
    [
        (3 * D, D, [(0, 1), (1, 2), (2, 3)]),  # an exact multiple
        (timedelta(days=2, hours=12), D, [(0, 1), (1, 2), (2, 2.5)]),  # a shorter last chunk
        (timedelta(hours=5), D, [(0, 5 / 24)]),  # a chunk larger than the window
        (D, D, [(0, 1)]),  # one chunk exactly
    ],
)
def test_chunk_windows(length: timedelta, chunk: timedelta, expected: list) -> None:  # type: ignore[type-arg]
    got = chunk_windows(T0, T0 + length, chunk)
    assert got == [(T0 + a * D, T0 + b * D) for a, b in expected]


@pytest.mark.parametrize(
    ("length", "chunk", "message"),
    [
        (timedelta(0), D, "window is empty"),  # start == end
        (-D, D, "window is empty"),  # start after end
        (D, timedelta(0), "positive duration"),  # zero chunk
    ],
)
def test_chunk_windows_rejects(length: timedelta, chunk: timedelta, message: str) -> None:
    with pytest.raises(JobError, match=message):
        chunk_windows(T0, T0 + length, chunk)


def test_backfill_runs_each_chunk_as_a_job(tmp_path: Path) -> None:
    clock = Clock(T0 + 10 * D)
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, {"v": "@daily"}, clock, runner)
    seen = []
    report = backfill(ctx, "v", T0, T0 + 3 * D, D, on_chunk=lambda w, r: seen.append((w, r)))
    assert report.ok and not report.skipped
    assert runner.calls == [("v", T0 + i * D, T0 + (i + 1) * D) for i in range(3)]
    assert [(r.trigger, r.start, r.end) for r in report.ran] == [
        ("backfill", T0 + i * D, T0 + (i + 1) * D) for i in range(3)
    ]
    assert [w for w, _ in seen] == report.chunks


def test_backfill_resumes_after_interruption(tmp_path: Path) -> None:
    clock = Clock(T0 + 10 * D)
    runner = FakeRunner(clock)
    ctx = make_ctx(tmp_path, {"v": "@daily"}, clock, runner)

    def interrupt_after_two(window: tuple, record: object) -> None:  # type: ignore[type-arg]
        if window[1] == T0 + 2 * D:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backfill(ctx, "v", T0, T0 + 4 * D, D, on_chunk=interrupt_after_two)
    report = backfill(ctx, "v", T0, T0 + 4 * D, D)
    assert report.skipped == [(T0, T0 + D), (T0 + D, T0 + 2 * D)]
    assert [(r.start, r.end) for r in report.ran] == [
        (T0 + 2 * D, T0 + 3 * D),
        (T0 + 3 * D, T0 + 4 * D),
    ]
    assert len(runner.calls) == 4  # every chunk exactly once over both runs


def test_backfill_stops_at_a_failed_chunk_and_retries_it(tmp_path: Path) -> None:
    clock = Clock(T0 + 10 * D)
    runner = FakeRunner(clock, failing={"v"})
    ctx = make_ctx(tmp_path, {"v": ""}, clock, runner)  # no schedule needed to backfill
    report = backfill(ctx, "v", T0, T0 + 3 * D, D)
    assert report.failed is not None and report.failed.attempt == 1 and len(runner.calls) == 1
    runner.failing.clear()
    report = backfill(ctx, "v", T0, T0 + 3 * D, D)
    assert report.ok and [r.attempt for r in report.ran] == [2, 1, 1]


def test_backfill_waits_for_a_busy_view_then_gives_up(tmp_path: Path) -> None:
    clock = Clock(T0 + 10 * D)
    ctx = make_ctx(tmp_path, {"v": "@daily"}, clock)
    assert ctx.leases.acquire("v", 3600) is not None
    naps: list[float] = []
    with pytest.raises(JobError, match="'v' has been materialized by another runner"):
        backfill(ctx, "v", T0, T0 + D, D, lease_wait=10, sleep=naps.append)
    assert sum(naps) >= 10


def test_backfill_of_an_unknown_view_names_the_known_ones(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"a": "@daily", "b": ""}, Clock())
    with pytest.raises(
        NotFoundError, match="no online feature view named 'zz'; online views: a, b"
    ):
        backfill(ctx, "zz", T0, T0 + D)


def test_backfill_does_not_move_the_schedule(tmp_path: Path) -> None:
    """Backfill jobs are not scheduled runs: a failed chunk does not make the view failing."""
    from featurestore.materialize.status import statuses

    clock = Clock(T0 + 10 * D)
    runner = FakeRunner(clock, failing={"v"})
    ctx = make_ctx(tmp_path, {"v": "@daily"}, clock, runner)
    backfill(ctx, "v", T0, T0 + D, D)
    [status] = statuses(ctx, clock())
    assert status.failures == 0 and status.last_success is None

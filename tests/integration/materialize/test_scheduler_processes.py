"""Real processes: two schedulers racing never run the same view-window twice; a scheduler
killed mid-job is followed by one that finishes the work, nothing lost or written twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sched_repo import NOW, expected, make_repo, online

from featurestore import FeatureStore
from featurestore.materialize.history import ABANDONED
from featurestore.materialize.runner import JobContext
from featurestore.materialize.scheduler import run_due
from featurestore.materialize.watermarks import get_watermark

WORKER = Path(__file__).with_name("sched_worker.py")
TICK = NOW.replace(minute=0)
pytestmark = pytest.mark.slow


@pytest.fixture(
    params=[
        pytest.param("file", id="file-lease"),  # embedded: SQLite store, file leases
        pytest.param("redis", id="redis-lease", marks=pytest.mark.redis),  # Redis leases
    ]
)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, unique_project: str
) -> Iterator[FeatureStore]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = make_repo(tmp_path / "repo", unique_project, url)
    yield made
    made.teardown()


def spawn(mode: str, store: FeatureStore, shared: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(store.repo_path), str(shared)],
        cwd=WORKER.parent,
        env={**os.environ, "PYTHONPATH": str(WORKER.parent)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_two_racing_schedulers_never_run_a_window_twice(
    store: FeatureStore, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    racers = [spawn("race", store, shared) for _ in range(2)]
    wait_for(lambda: len(list(shared.glob("ready-*"))) == 2, "both racers to be ready")
    (shared / "go").touch()
    outputs = [p.communicate(timeout=120) for p in racers]
    assert [p.returncode for p in racers] == [0, 0], [err for _, err in outputs]
    ran = [tuple(job) for out, _ in outputs for job in json.loads(out.strip().splitlines()[-1])]
    assert sorted(ran) == [
        ("activity", TICK.isoformat(), "succeeded"),
        ("ratings", NOW.replace(minute=30).isoformat(), "succeeded"),
    ]
    calls = (shared / "calls.log").read_text().splitlines()
    assert sorted(line.split()[1] for line in calls) == ["activity", "ratings"]  # one call each
    history = JobContext.for_store(store).history.jobs()
    assert sorted((j.view, j.status) for j in history) == [
        ("activity", "succeeded"),
        ("ratings", "succeeded"),
    ]
    assert online(store, "activity") == expected(store, "activity", TICK)


def test_a_killed_scheduler_is_finished_by_the_next(store: FeatureStore, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    doomed = spawn("hang", store, shared)
    try:
        wait_for(lambda: (shared / "started").exists(), "the first batch to be written")
        partial = {**online(store, "activity"), **online(store, "ratings")}
        assert partial  # it really was mid-job: some values written...
        assert get_watermark(store, "activity") is None  # ...and no watermark moved
        assert get_watermark(store, "ratings") is None
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)
    ctx = JobContext.for_store(store, clock=lambda: NOW, lease_ttl=2.0)
    finished: list = []  # type: ignore[type-arg]

    def successor_done() -> bool:  # busy while the dead runner's leases have not expired
        finished.extend(run_due(ctx))
        return {j.view for j in finished} == {"activity", "ratings"}

    wait_for(successor_done, "the leases of the killed scheduler to expire")
    assert run_due(ctx) == []  # and nothing is run twice
    for view, end in (("activity", TICK), ("ratings", NOW.replace(minute=30))):
        assert get_watermark(store, view) == end
        assert online(store, view) == expected(store, view, end)
        records = ctx.history.jobs(view=view)
        succeeded = [j for j in records if j.status == "succeeded"]
        assert [j.end for j in succeeded] == [end]
        assert all(j.error == ABANDONED for j in records if j.status == "failed")
    abandoned = [j for j in ctx.history.jobs() if j.status == "failed"]
    assert len(abandoned) >= 1  # the killed job is on record, marked abandoned


def test_a_killed_backfill_resumes_where_it_stopped(store: FeatureStore, tmp_path: Path) -> None:
    from sched_worker import BACKFILL

    from featurestore.materialize.backfill import backfill

    shared = tmp_path / "shared"
    shared.mkdir()
    doomed = spawn("backfill", store, shared)
    try:
        wait_for(lambda: (shared / "started").exists(), "the third chunk to start")
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)
    ctx = JobContext.for_store(store, clock=lambda: NOW, lease_ttl=2.0)
    before = ctx.history.jobs(trigger="backfill")
    assert sorted((j.start.hour, j.status) for j in before if j.start) == [
        (6, "succeeded"),
        (7, "succeeded"),
        (8, "running"),  # the chunk it died in
    ]
    report = backfill(ctx, "activity", *BACKFILL, timedelta(hours=1))
    assert [w[0].hour for w in report.skipped] == [6, 7]
    assert [(j.start.hour, j.status) for j in report.ran if j.start] == [
        (8, "succeeded"),
        (9, "succeeded"),
    ]
    assert [j.error for j in ctx.history.jobs(trigger="backfill", status="failed")] == [ABANDONED]
    assert get_watermark(store, "activity") == BACKFILL[1]
    assert online(store, "activity") == expected(store, "activity", BACKFILL[1])

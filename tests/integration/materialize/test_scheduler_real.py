"""The scheduler on real data: Parquet in, SQLite or a real Redis out, history on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sched_repo import NOW, expected, hour, make_repo, online, rows, write_rows

from featurestore import FeatureStore
from featurestore.materialize.runner import JobContext
from featurestore.materialize.scheduler import run_due
from featurestore.materialize.status import view_status
from featurestore.materialize.watermarks import get_watermark

TICK = NOW.replace(minute=0)  # latest @hourly tick at NOW (10:00)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),  # embedded: file leases, SQLite online store
        pytest.param("redis", id="redis", marks=pytest.mark.redis),  # Redis leases and store
    ]
)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, unique_project: str
) -> Iterator[FeatureStore]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = make_repo(tmp_path / "repo", unique_project, url)
    yield made
    made.teardown()


def at(store: FeatureStore, moment):  # type: ignore[no-untyped-def]
    return JobContext.for_store(store, clock=lambda: moment)


def test_due_views_are_materialized_up_to_the_tick(store: FeatureStore) -> None:
    jobs = {j.view: j for j in run_due(at(store, NOW))}
    assert {v: (j.status, j.end) for v, j in jobs.items()} == {
        "activity": ("succeeded", TICK),
        "ratings": ("succeeded", NOW.replace(minute=30)),  # @every 30m: 10:30
    }
    assert get_watermark(store, "activity") == TICK
    assert online(store, "activity") == expected(store, "activity", TICK)  # not the 10:15 rows
    assert online(store, "ratings") == expected(store, "ratings", NOW.replace(minute=30))
    assert jobs["activity"].rows_written == 8
    assert run_due(store, NOW) == []  # same time again (the store's own context): not due


def test_catch_up_after_downtime_runs_one_window(store: FeatureStore) -> None:
    run_due(at(store, NOW))
    later = hour(NOW, 5)  # down for five ticks; new rows arrived meanwhile
    write_rows(store.repo_path, "activity", "part-1", rows("activity", [(1, 999, hour(TICK, 3))]))
    [job] = [j for j in run_due(at(store, later)) if j.view == "activity"]
    assert (job.start, job.end) == (TICK, hour(TICK, 5))
    assert online(store, "activity")[1] == 999
    history = JobContext.for_store(store).history
    assert [j.end for j in history.jobs(view="activity")] == [hour(TICK, 5), TICK]


def test_a_broken_view_fails_alone_then_retries(store: FeatureStore) -> None:
    (store.repo_path / "data/ratings/part-0.parquet").write_bytes(b"not parquet")
    jobs = {j.view: j for j in run_due(at(store, NOW))}
    assert jobs["activity"].status == "succeeded"
    broken = jobs["ratings"]
    assert broken.status == "failed" and broken.error and broken.attempt == 1
    assert get_watermark(store, "ratings") is None  # a failed job leaves the watermark
    assert run_due(at(store, NOW)) == []  # backing off: not retried at once
    statuses = {s.view: s for s in view_status(store, NOW)}
    assert statuses["ratings"].failures == 1 and not statuses["ratings"].failing
    assert statuses["activity"].lag is not None and statuses["activity"].lag.total_seconds() == 0
    [retry] = run_due(at(store, hour(NOW, 0.02)))  # 72s later: past the 30s backoff
    assert (retry.view, retry.status, retry.attempt) == ("ratings", "failed", 2)

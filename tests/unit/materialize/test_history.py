"""Job history: records round-trip through files, survive restarts, take concurrent writers."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sched_fakes import T0

from featurestore.errors import NotFoundError, RegistryError
from featurestore.materialize.history import JobHistory
from featurestore.materialize.result import ViewMaterialization


@pytest.fixture(params=["local", "memory"])  # a local directory, and an object-store-like URL
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "jobs")
    return f"memory://jobs-{uuid.uuid4().hex}"


def test_a_job_round_trips_and_survives_a_restart(url: str) -> None:
    history = JobHistory(url)
    running = history.start("a", None, T0, "schedule", now=T0, attempt=2)
    result = ViewMaterialization("a", T0 - timedelta(hours=1), T0, 42, 0.5)
    done = history.finish(running, result, now=T0 + timedelta(seconds=3))
    again = JobHistory(url)  # a new process reads the same files
    assert again.get(done.id) == done
    assert (done.status, done.rows_written, done.attempt) == ("succeeded", 42, 2)
    assert done.start == T0 - timedelta(hours=1)  # the runner's actual window start
    assert done.ended == T0 + timedelta(seconds=3) and done.error is None


def test_failed_result_is_a_failed_job(url: str) -> None:
    history = JobHistory(url)
    job = history.start("a", T0, T0, "backfill", now=T0)
    failed = history.finish(job, ViewMaterialization("a", T0, T0, 0, 0.1, error="boom"), now=T0)
    assert (failed.status, failed.error) == ("failed", "boom")


def test_list_filters_and_orders_newest_first(url: str) -> None:
    history = JobHistory(url)
    ok = ViewMaterialization("x", T0, T0, 1, 0.0)
    ids = []
    for i, (view, trigger) in enumerate([("a", "schedule"), ("b", "manual"), ("a", "backfill")]):
        job = history.start(view, None, T0, trigger, now=T0 + timedelta(minutes=i))  # type: ignore[arg-type]
        ids.append(job.id)
        if view == "a":
            history.finish(job, ok, now=T0)
    assert [j.id for j in history.jobs()] == ids[::-1]
    assert [j.id for j in history.jobs(view="a")] == [ids[2], ids[0]]
    assert [j.id for j in history.jobs(status="running")] == [ids[1]]
    assert [j.id for j in history.jobs(trigger="backfill")] == [ids[2]]
    assert [j.id for j in history.jobs(limit=1)] == [ids[2]]
    assert history.jobs(view="nope") == []
    assert history.views() == ["a", "b"]


def test_get_by_prefix_and_clear_errors(url: str) -> None:
    history = JobHistory(url)
    a = replace(history.start("a", None, T0, "schedule", now=T0), id="20240101T000000-aaaa0001")
    history.save(a)
    b = replace(history.start("b", None, T0, "schedule", now=T0), id="20240101T000000-bbbb0002")
    history.save(b)
    assert history.get("20240101T000000-aaaa0001") == a  # the full id
    assert history.get("20240101T000000-b") == b  # a unique prefix
    with pytest.raises(NotFoundError, match="2 jobs have the id"):
        history.get("20240101T000000-")  # a prefix of both: ambiguous
    with pytest.raises(NotFoundError, match="no job has the id '2024'"):
        history.get("2024")  # shorter than 8 characters: never a prefix
    with pytest.raises(NotFoundError, match="no job has the id 'zzz'"):
        history.get("zzz")
    assert history.get(b.id).view == "b"


def test_a_corrupt_record_is_named(tmp_path: Path) -> None:
    history = JobHistory(str(tmp_path / "jobs"))
    (tmp_path / "jobs" / "a").mkdir(parents=True)
    (tmp_path / "jobs" / "a" / "20240101T000000000000-bad.json").write_text("{not json")
    with pytest.raises(RegistryError, match=r"a/20240101T000000000000-bad\.json is not a job"):
        history.jobs(view="a")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    url = str(tmp_path / "jobs")

    def write(view: str) -> None:
        history = JobHistory(url)  # each writer its own instance, like separate processes
        for _ in range(20):
            job = history.start(view, None, T0, "schedule", now=T0)
            history.finish(job, ViewMaterialization(view, T0, T0, 1, 0.0), now=T0)

    threads = [threading.Thread(target=write, args=(v,)) for v in ("a", "a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs = JobHistory(url).jobs()
    assert len(jobs) == 80 and len({j.id for j in jobs}) == 80
    assert {j.status for j in jobs} == {"succeeded"}
    assert not list((tmp_path / "jobs").rglob("*.tmp"))


def test_prune_keeps_recent_running_and_the_last_success(url: str) -> None:
    history = JobHistory(url)
    ok = ViewMaterialization("a", T0, T0, 1, 0.0)
    bad = ViewMaterialization("a", T0, T0, 0, 0.0, error="boom")

    def job(view: str, ended_hours: float, result: ViewMaterialization | None, trigger="schedule"):  # type: ignore[no-untyped-def]
        record = history.start(view, None, T0, trigger, now=T0)
        if result is None:
            return record
        return history.finish(record, result, now=T0 + timedelta(hours=ended_hours))

    old_success = job("a", 1, ok)
    last_success = job("a", 2, ok)  # old, but a's last success: kept
    old_failure = job("a", 3, bad)
    old_backfill = job("a", 4, ok, "backfill")
    stuck = job("a", 0, None)  # still running: never pruned
    recent = job("a", 30, bad)
    b_only = job("b", 1, ok)  # b's last success: kept
    assert history.prune(T0 + timedelta(hours=24)) == 3
    left = {r.id for r in JobHistory(url).jobs()}
    assert left == {last_success.id, stuck.id, recent.id, b_only.id}
    assert not {old_success.id, old_failure.id, old_backfill.id} & left
    assert history.prune(T0 + timedelta(hours=24)) == 0

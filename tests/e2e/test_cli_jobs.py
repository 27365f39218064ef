"""The job commands as a user runs them: CliRunner for most, one real scheduler process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "materialize"))

from sched_repo import NOW, make_repo

from featurestore import FeatureStore
from featurestore.cli import main
from featurestore.materialize.history import JobHistory

FEATURESTORE = Path(sys.executable).with_name("featurestore")


@pytest.fixture
def store(tmp_path: Path, unique_project: str) -> Iterator[FeatureStore]:
    made = make_repo(tmp_path / "repo", unique_project)
    yield made
    made.teardown()


def cli(store: FeatureStore, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(store.repo_path), *args], catch_exceptions=False)


def history(store: FeatureStore) -> JobHistory:
    return JobHistory(store.registry.state_url("jobs"))


def test_run_due_list_show_and_status(store: FeatureStore) -> None:
    now = NOW.isoformat()
    assert "never" in cli(store, "status", "--now", now).output
    first = cli(store, "jobs", "run-due", "--now", now)
    assert first.exit_code == 0, first.output
    assert first.output.count("succeeded") == 2
    again = cli(store, "jobs", "run-due", "--now", now)
    assert (again.exit_code, again.output.strip()) == (0, "No view is due.")
    [job] = history(store).jobs(view="activity")
    listed = cli(store, "jobs", "list", "--view", "activity", "--status", "succeeded")
    assert job.id in listed.output and "ratings" not in listed.output
    assert cli(store, "jobs", "list", "--status", "failed").output.strip() == "No jobs."
    shown = cli(store, "jobs", "show", job.id[:-4])  # a unique prefix
    assert shown.exit_code == 0
    assert "2026-01-02 10:00:00 (UTC)" in shown.output and "succeeded" in shown.output
    assert "ok" in cli(store, "status", "--now", now).output
    ratings = json.loads(cli(store, "status", "--now", now, "--json").output)[1]
    assert (ratings["view"], ratings["schedule"], ratings["lag"]) == ("ratings", "@every 30m", 0)
    assert (ratings["next_run"], ratings["failing"]) == ("2026-01-02T11:00:00+00:00", False)
    [listed_json] = json.loads(cli(store, "jobs", "list", "--view", "activity", "--json").output)
    assert listed_json["id"] == job.id and listed_json["end"] == "2026-01-02T10:00:00+00:00"
    assert json.loads(cli(store, "jobs", "show", job.id, "--json").output) == listed_json
    pruned = cli(store, "jobs", "prune", "--older-than", "0s")  # last successes are kept
    assert pruned.output.strip() == "Deleted 0 job record(s) older than 0s."


def test_errors_are_one_clear_line(store: FeatureStore) -> None:
    missing = CliRunner().invoke(main, ["-C", str(store.repo_path), "jobs", "show", "nope"])
    assert missing.exit_code == 1 and "no job has the id 'nope'" in missing.output
    bad_chunk = CliRunner().invoke(
        main,
        ["-C", str(store.repo_path), "backfill", "--view", "activity", "--start", "2026-01-01",
         "--end", "2026-01-02", "--chunk", "2w"],
    )  # fmt: skip
    assert bad_chunk.exit_code == 2 and "give a number and a unit" in bad_chunk.output
    unknown = CliRunner().invoke(
        main,
        ["-C", str(store.repo_path), "backfill", "--view", "nope", "--start", "2026-01-01",
         "--end", "2026-01-02"],
    )  # fmt: skip
    assert unknown.exit_code == 1 and "online views: activity, ratings" in unknown.output


def test_run_due_exits_1_when_a_job_fails(store: FeatureStore) -> None:
    (store.repo_path / "data/ratings/part-0.parquet").write_bytes(b"not parquet")
    result = cli(store, "jobs", "run-due", "--now", NOW.isoformat())
    assert result.exit_code == 1 and "failed" in result.output


def test_manual_run(store: FeatureStore) -> None:
    result = cli(store, "jobs", "run", "activity", "--end", "2026-01-02T09:30:00")
    assert result.exit_code == 0 and "manual" in result.output
    again = cli(store, "jobs", "run", "activity", "--end", "2026-01-02T09:30:00")
    assert "already materialized" in again.output


def test_backfill_in_chunks_then_resume(store: FeatureStore) -> None:
    args = ["backfill", "--view", "activity", "--start", "2026-01-02T00:00:00"]
    partial = cli(store, *args, "--end", "2026-01-02T06:00:00", "--chunk", "3h")
    assert partial.exit_code == 0 and "Backfilled 2 chunk(s)" in partial.output
    more = cli(store, *args, "--end", "2026-01-02T12:00:00", "--chunk", "3h")
    assert "Backfilled 2 chunk(s)" in more.output and "skipped 2 already done" in more.output
    jobs = history(store).jobs(trigger="backfill")
    assert len(jobs) == 4 and {j.status for j in jobs} == {"succeeded"}


@pytest.mark.slow
def test_scheduler_process_runs_jobs_and_stops_on_sigterm(store: FeatureStore) -> None:
    proc = subprocess.Popen(
        [
            str(FEATURESTORE),
            "-C",
            str(store.repo_path),
            "scheduler",
            "--poll",
            "0.5",
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 90
        while len(history(store).jobs(status="succeeded")) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scheduler ran no jobs"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "scheduler: stopped" in err and "2 scheduled view(s)" in err
    assert history(store).jobs(status="running") == []
    assert {j.view for j in history(store).jobs()} == {"activity", "ratings"}

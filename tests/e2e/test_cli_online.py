"""The online commands as a user runs them: materialize, materialize-incremental, online-get,
teardown (CliRunner, plus one real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from featurestore.cli import main

DEFS = {
    "defs.py": """
    from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource
    from featurestore.types import Float64, Int64, String
    member = Entity(name="member", join_keys=["member_id"])
    stats = FeatureView(name="stats", entities=[member],
                        schema=[Field("plays", Int64), Field("genre", String)],
                        source=ParquetSource(path="data/stats"))
    other = FeatureView(name="other", entities=[member], schema=[Field("x", Float64)],
                        source=ParquetSource(path="data/other.parquet"))
    svc = FeatureService(name="svc", features=[stats[["plays"]]])
    """
}


@pytest.fixture
def repo(make_repo) -> Path:
    path = make_repo(DEFS)
    (path / "data/stats").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "member_id": [1, 2, 1],
                "plays": [3, 4, 5],
                "genre": ["drama", "comedy", None],
                "event_timestamp": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
            }
        ),
        path / "data/stats/part-0.parquet",
    )
    pq.write_table(
        pa.table({"member_id": [1], "x": [1.0], "event_timestamp": [datetime(2026, 1, 1)]}),
        path / "data/other.parquet",
    )
    assert CliRunner().invoke(main, ["-C", str(path), "apply"]).exit_code == 0
    return path


def run(repo: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["-C", str(repo), *args], input=input)


def test_materialize_then_get(repo: Path) -> None:
    result = run(repo, "materialize", "2026-01-01", "2026-01-02T12:00:00Z", "--views", "stats")
    assert result.exit_code == 0, result.output
    assert "stats" in result.output and "Materialized 2 rows in 1 view(s)" in result.output
    got = run(
        repo,
        "online-get",
        "--features",
        "stats:plays,stats:genre",
        "--entity",
        "member_id=1",
        "--entity",
        "member_id=7",
        "--json",
    )
    assert got.exit_code == 0, got.output
    rows = json.loads(got.output)
    assert [r["plays"] for r in rows] == [3, None]
    assert [r["genre__status"] for r in rows] == ["PRESENT", "NOT_FOUND"]
    table = run(repo, "online-get", "--service", "svc", "--entity", "member_id=1")
    assert table.exit_code == 0 and "PRESENT" in table.output and "3" in table.output


def test_incremental_and_teardown(repo: Path) -> None:
    result = run(repo, "materialize-incremental", "now")
    assert result.exit_code == 0, result.output
    assert "Materialized 3 rows in 2 view(s)" in result.output
    rows = json.loads(
        run(
            repo, "online-get", "--features", "stats:plays", "--entity", "member_id=1", "--json"
        ).output
    )
    assert rows[0]["plays"] == 5
    assert run(repo, "teardown", input="n\n").exit_code == 1  # declined: nothing removed
    assert run(repo, "teardown", "--yes").exit_code == 0
    rows = json.loads(
        run(
            repo, "online-get", "--features", "stats:plays", "--entity", "member_id=1", "--json"
        ).output
    )
    assert rows[0]["plays__status"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["materialize", "yesterday", "now"], "ISO 8601"),  # a time that is not one
        (["materialize", "now", "2020-01-01"], "after end"),  # reversed window
        (["materialize", "2020-01-01", "now", "--views", "nope"], "nope"),  # unknown view
        (["online-get", "--entity", "member_id=1"], "--features"),  # nothing asked for
        (["online-get", "--features", "stats:plays", "--entity", "member_id=x"], "Int64"),
        (["online-get", "--features", "stats:plays", "--entity", "member_id"], "key=value"),
    ],
)
def test_errors(repo: Path, args: list[str], message: str) -> None:
    result = run(repo, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_failed_view_exits_non_zero(repo: Path) -> None:
    (repo / "data/other.parquet").unlink()
    result = run(repo, "materialize", "2026-01-01", "2026-01-05")
    assert result.exit_code == 1
    assert "failed" in result.output and "other" in result.output


@pytest.mark.slow
def test_real_process(repo: Path) -> None:
    exe = Path(sys.executable).parent / "featurestore"
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [str(exe), "-C", str(repo), "materialize", "2026-01-01", "2026-01-03"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    got = subprocess.run(
        [
            str(exe),
            "-C",
            str(repo),
            "online-get",
            "--features",
            "stats:plays",
            "--entity",
            "member_id=2",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)[0]["plays"] == 4

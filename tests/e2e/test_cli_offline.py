"""``featurestore training-frame`` as a user runs it: CliRunner, and one real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from featurestore.cli import main

FEATURESTORE = Path(sys.executable).with_name("featurestore")

DEFINITIONS = """
from datetime import timedelta
from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource
from featurestore.types import Float64, Int64

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    ttl=timedelta(days=1),
    schema=[Field("plays", Int64), Field("minutes", Float64)],
    source=ParquetSource(path="data/activity.parquet", created_timestamp_column="created"),
)
model = FeatureService(name="model", features=[activity[["plays"]]])
"""


def at(hour: int) -> datetime:
    return datetime(2024, 1, 1, hour)


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    path = make_repo({"features.py": DEFINITIONS}, config="project: offline_cli\n")
    (path / "data").mkdir()
    pq.write_table(
        pa.table(
            {
                "member_id": [1, 1, 2],
                "event_timestamp": [at(1), at(5), at(2)],
                "created": [at(1), at(5), at(2)],
                "plays": [10, 50, 20],
                "minutes": [1.0, 5.0, 2.0],
            }
        ),
        path / "data" / "activity.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "member_id": [1, 2, 1, 3],
                "event_timestamp": [at(6), at(3), at(2), at(6)],
                "label": [1, 0, 1, 0],
            }
        ),
        path / "data" / "entities.parquet",
    )
    applied = cli(path, "apply")
    assert applied.exit_code == 0, applied.output
    return path


def cli(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(repo), *args])


def test_features_to_parquet_with_summary(repo: Path) -> None:
    result = cli(
        repo,
        "training-frame",
        "--entities",
        "data/entities.parquet",
        "--features",
        "activity:plays,activity:minutes",
        "--out",
        "data/frame.parquet",
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 4 rows x 5 columns" in result.output
    frame = pq.read_table(repo / "data" / "frame.parquet")
    assert frame.column_names == ["member_id", "event_timestamp", "label", "plays", "minutes"]
    assert frame.column("plays").to_pylist() == [50, 20, 10, None]


def test_service_and_sql_entities(repo: Path) -> None:
    sql = f"SELECT * FROM read_parquet('{repo / 'data' / 'entities.parquet'}') WHERE label = 1"
    result = cli(
        repo,
        "training-frame",
        "--entities",
        sql,
        "--service",
        "model",
        "--full-feature-names",
        "--out",
        "data/by_service.parquet",
    )
    assert result.exit_code == 0, result.output
    frame = pq.read_table(repo / "data" / "by_service.parquet")
    assert frame.column("activity__plays").to_pylist() == [50, 10]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # neither --features nor --service
        ([], "give the features to retrieve"),
        # both
        (["--features", "activity:plays", "--service", "model"], "give the features to retrieve"),
        # an unknown feature
        (["--features", "activity:nope"], "unknown feature 'activity:nope'"),
    ],
)
def test_bad_requests_fail_with_one_line(repo: Path, args: list[str], message: str) -> None:
    base = ["training-frame", "--entities", "data/entities.parquet", "--out", "data/x.parquet"]
    result = cli(repo, *base, *args)
    assert result.exit_code == 1
    assert message in result.output


def test_missing_entity_file(repo: Path) -> None:
    result = cli(
        repo,
        "training-frame",
        "--entities",
        "data/nope.parquet",
        "--features",
        "activity:plays",
        "--out",
        "data/x.parquet",
    )
    assert result.exit_code == 1
    assert "nope.parquet" in result.output and "does not exist" in result.output


def test_real_process(repo: Path) -> None:
    out = repo / "data" / "process.parquet"
    proc = subprocess.run(
        [
            str(FEATURESTORE),
            "-C",
            str(repo),
            "training-frame",
            "--entities",
            "data/entities.parquet",
            "--service",
            "model",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Wrote 4 rows x 4 columns" in proc.stdout
    assert pq.read_table(out).column("plays").to_pylist() == [50, 20, 10, None]

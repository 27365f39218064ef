"""Sources checked against their data at plan time: each mismatch names the view, the
column, the file and what was expected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featurestore import FeatureStore
from featurestore.errors import SourceDataError
from featurestore.repo.validate import check_data

TS = pa.timestamp("us", tz="UTC")
NOW = datetime(2026, 1, 1, tzinfo=UTC)

REPO = """
from datetime import timedelta
from featurestore import Entity, FeatureView, Field, ParquetSource, PushSource
from featurestore.types import Float32, Int64, String

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    schema=[Field("plays", Int64), Field("minutes", Float32), Field("genre", String)],
    source=ParquetSource(
        path="data/activity.parquet",
        created_timestamp_column="created",
        field_mapping={MAPPING},
    ),
)
live = FeatureView(
    name="live",
    entities=[member],
    schema=[Field("watching", Int64)],
    source=PushSource("live_push", ParquetSource(path="data/live/")),
)
"""

GOOD: dict[str, pa.Array] = {
    "member_id": pa.array([1, 2], pa.int64()),
    "event_timestamp": pa.array([NOW, NOW], TS),
    "created": pa.array([NOW, NOW], TS),
    "plays": pa.array([3, 4], pa.int64()),
    "minutes": pa.array([1.5, 2.5], pa.float32()),
    "genre": pa.array(["a", "b"]),
}


def write(repo: Path, columns: dict[str, pa.Array]) -> None:
    (repo / "data").mkdir(exist_ok=True)
    pq.write_table(pa.table(columns), repo / "data" / "activity.parquet")


def with_(**changes: Any) -> dict[str, pa.Array]:
    cols = dict(GOOD)
    for name, value in changes.items():
        if value is None:
            cols.pop(name)
        else:
            cols[name] = value
    return cols


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"features.py": REPO.replace("{MAPPING}", "{}")})


def problems(repo: Path) -> tuple[str, ...]:
    store = FeatureStore(repo)
    return check_data(store, store.load_repo()).errors


def test_matching_data_has_no_problems_and_missing_push_data_is_a_warning(repo: Path) -> None:
    write(repo, GOOD)
    store = FeatureStore(repo)
    result = check_data(store, store.load_repo())
    assert result.errors == ()
    assert len(result.warnings) == 1
    assert "push source 'live_push' has no data at 'data/live/' yet" in result.warnings[0]

    (repo / "data/live").mkdir(parents=True)  # made, but nothing pushed yet
    assert check_data(store, store.load_repo()).warnings == result.warnings


def test_narrower_numbers_widen_to_the_declared_type(repo: Path) -> None:
    write(repo, with_(plays=pa.array([1, 2], pa.int32()), member_id=pa.array([1, 2], pa.int32())))
    assert problems(repo) == ()


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (with_(plays=None), "feature 'plays', in data/activity.parquet: not in the data; "
         "columns are ['member_id', 'event_timestamp', 'created', 'minutes', 'genre']"),
        (with_(plays=pa.array(["x", "y"])), "feature 'plays', in data/activity.parquet: has type "
         "String (Arrow string); the definition expects Int64"),  # wrong type
        (with_(minutes=pa.array([1.0, 2.0], pa.float64())),
         "feature 'minutes', in data/activity.parquet: has type Float64 (Arrow double); the "
         "definition expects Float32"),  # wider data never narrows silently
        (with_(member_id=None), "join key 'member_id', in data/activity.parquet: not in the data"),
        (with_(member_id=pa.array(["1", "2"])),
         "join key 'member_id', in data/activity.parquet: has type String"),  # key type
        (with_(event_timestamp=None),
         "timestamp_field 'event_timestamp', in data/activity.parquet: not in the data"),
        (with_(event_timestamp=pa.array([1, 2], pa.int64())),
         "timestamp_field 'event_timestamp', in data/activity.parquet: has Arrow type int64; "
         "expected a timestamp or date column"),  # epoch ints are not timestamps
        (with_(created=pa.array(["x", "y"])),
         "created_timestamp_column 'created', in data/activity.parquet: has Arrow type string"),
        (with_(genre=pa.array([{"a": 1}, {"a": 2}])),
         "feature 'genre', in data/activity.parquet: has Arrow type struct<a: int64>, which no "
         "featurestore type holds"),  # unsupported Arrow type
    ],
)  # fmt: skip
def test_each_mismatch_names_view_column_file_and_expectation(
    repo: Path, columns: dict[str, pa.Array], expected: str
) -> None:
    write(repo, columns)
    (problem,) = problems(repo)
    assert problem.startswith("feature view 'activity', ")
    assert expected in problem


def test_field_mapping_reads_the_source_column(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"features.py": REPO.replace("{MAPPING}", '{"n_plays": "plays"}')})
    write(repo, with_(plays=None, n_plays=pa.array([1, 2], pa.int64())))
    assert problems(repo) == ()
    write(repo, GOOD)  # the mapped source column is missing
    (problem,) = problems(repo)
    assert "feature 'plays' (source column 'n_plays'), in data/activity.parquet: not in" in problem


def test_missing_file_is_an_error_naming_the_view(repo: Path) -> None:
    (problem,) = problems(repo)
    assert problem.startswith("feature view 'activity': ")
    assert "activity.parquet" in problem and "does not exist" in problem


def test_not_parquet_is_an_error(repo: Path) -> None:
    (repo / "data").mkdir()
    (repo / "data" / "activity.parquet").write_text("id,plays\n1,2\n")
    (problem,) = problems(repo)
    assert problem.startswith("feature view 'activity': ") and "activity.parquet" in problem


def test_plan_refuses_mismatched_data_and_lists_every_problem(repo: Path) -> None:
    write(repo, with_(plays=None, genre=None))
    with pytest.raises(SourceDataError) as info:
        FeatureStore(repo).plan()
    text = str(info.value)
    assert text.startswith("2 problem(s) between the definitions and their data")
    assert "feature 'plays'" in text and "feature 'genre'" in text
    assert "--no-check-data" in text
    assert not FeatureStore(repo).plan(check_data=False).data_checked


HIVE_REPO = """
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Int64, String

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    schema=[Field("plays", Int64), Field("region", String)],
    source=ParquetSource(path="PATH"),
)
"""


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("data/activity", True),  # hive directory: 'region' comes from the partition names
        ("data/activity/*/*.parquet", False),  # a glob reads files only: no 'region' column
    ],
)
def test_hive_partitions_and_globs(make_repo: Callable[..., Path], path: str, ok: bool) -> None:
    repo = make_repo({"features.py": HIVE_REPO.replace("PATH", path)})
    for region in ("eu", "us"):
        part = repo / "data" / "activity" / f"region={region}"
        part.mkdir(parents=True)
        cols = {k: GOOD[k] for k in ("member_id", "event_timestamp", "plays")}
        pq.write_table(pa.table(cols), part / "part-0.parquet")
    found = problems(repo)
    if ok:
        assert found == ()
    else:
        (problem,) = found
        assert f"feature 'region', in {path}: not in the data" in problem

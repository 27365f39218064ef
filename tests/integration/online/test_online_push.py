"""Push on each store: schema checks, never-older online writes, atomic offline files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from online_support import activity_row, ts, write_parquet

from featurestore.errors import NotFoundError, RequestError, SourceDataError


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows).with_columns(
        pl.col("event_timestamp").dt.replace_time_zone("UTC"),
        pl.col("created").dt.replace_time_zone("UTC"),
    )


def _fresh(member: int, hours_ago: float, plays: int, **extra) -> dict:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return activity_row(member, 0, plays=plays, event_timestamp=moment, created=moment, **extra)


def _plays(store, members):
    resp = store.get_online_features(["activity:plays"], {"member_id": members})
    return resp.to_dict()["plays"]


def test_push_online_keeps_the_latest_and_never_goes_back(repo_factory) -> None:
    store = repo_factory()
    rows = [_fresh(1, 3, 1), _fresh(1, 1, 2), _fresh(1, 2, 3), _fresh(2, 1, 20)]
    assert store.push("activity_push", _frame(rows)) == 4
    assert _plays(store, [1, 2]) == [2, 20]  # latest per entity within the push
    store.push("activity_push", _frame([_fresh(1, 5, 99)]))  # late, older row
    assert _plays(store, [1]) == [2]
    tie = _fresh(1, 1, 7)
    store.push("activity_push", _frame([tie, {**tie, "plays": 8}]))  # full tie: later row
    assert _plays(store, [1]) == [8]
    assert not list((store.repo_path / "data/activity").glob("push-*"))  # online only


def test_push_offline_adds_a_file_that_materializes_the_same(repo_factory) -> None:
    store = repo_factory(activity=[_fresh(1, 10, 1)])
    one, two = _fresh(1, 2, 5), _fresh(2, 2, 6)
    first = pa.Table.from_pylist([one, two])
    second = pa.Table.from_pylist([{**one, "plays": 7}])  # same times as the first: a tie
    assert store.push("activity_push", first, to="offline") == 2
    assert _plays(store, [1, 2]) == [None, None]  # offline only
    store.push("activity_push", second, to="online_and_offline")
    files = sorted(p.name for p in (store.repo_path / "data/activity").iterdir())
    assert files[0] == "part-0.parquet" and len(files) == 3
    assert all(f.startswith("push-") for f in files[1:])  # later pushes sort later
    assert not [f for f in files if f.endswith(".tmp")]
    assert pq.read_schema(store.repo_path / "data/activity" / files[1]) == pq.read_schema(
        store.repo_path / "data/activity/part-0.parquet"
    )
    assert _plays(store, [1, 2]) == [7, None]  # member 2 was pushed offline only
    store.teardown()
    now = datetime.now(UTC)
    store.materialize(now - timedelta(days=1), now)
    assert _plays(store, [1, 2]) == [7, 6]  # the later push file wins the tie offline too


def test_push_fills_created_and_casts(repo_factory) -> None:
    store = repo_factory()
    moment = datetime.now(UTC) - timedelta(hours=1)
    frame = pa.table(
        {
            "member_id": pa.array([5], pa.int32()),  # narrower int: widened
            "plays": pa.array([3], pa.int16()),
            "score": pa.array([1.5], pa.float32()),
            "genre": ["x"],
            "event_timestamp": pa.array([moment.replace(tzinfo=None)]),  # naive = UTC
        }
    )
    assert store.push("activity_push", frame) == 1
    assert _plays(store, [5]) == [3]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"drop": "plays"}, RequestError, "plays"),  # a missing feature column is named
        ({"drop": "member_id"}, RequestError, "member_id"),  # missing join key
        ({"drop": "event_timestamp"}, RequestError, "event_timestamp"),  # no timestamp
        ({"plays": "many"}, RequestError, "plays"),  # wrong type
        ({"event_timestamp": None}, RequestError, "event_timestamp"),  # null event time
    ],
)
def test_push_schema_errors_write_nothing(repo_factory, change, error, message) -> None:
    store = repo_factory()
    row = _fresh(1, 1, 1)
    if "drop" in change:
        row.pop(change["drop"])
    else:
        row.update(change)
    with pytest.raises(error, match=message):
        store.push("activity_push", [row], to="online_and_offline")
    assert not list((store.repo_path / "data/activity").glob("push-*"))


def test_push_errors(repo_factory) -> None:
    store = repo_factory()
    with pytest.raises(NotFoundError, match="nope"):
        store.push("nope", [_fresh(1, 1, 1)])
    with pytest.raises(RequestError, match="online_and_offline"):
        store.push("activity_push", [_fresh(1, 1, 1)], to="both")
    empty = pa.Table.from_pylist([], schema=pa.Table.from_pylist([_fresh(1, 1, 1)]).schema)
    assert store.push("activity_push", empty, to="online_and_offline") == 0


def test_offline_push_to_a_single_file_source_is_refused(make_repo, unique_project) -> None:
    from featurestore import FeatureStore

    repo = make_repo(
        {
            "defs.py": """
            from featurestore import Entity, FeatureView, Field, ParquetSource, PushSource
            from featurestore.types import Int64
            m = Entity(name="m", join_keys=["m_id"])
            v = FeatureView(name="v", entities=[m], schema=[Field("x", Int64)],
                            source=PushSource(name="p", batch_source=ParquetSource(
                                path="data/v.parquet")))
            """
        },
        config=f"project: {unique_project}\n",
    )
    write_parquet(repo / "data/v.parquet", [{"m_id": 1, "x": 1, "event_timestamp": ts(1)}])
    store = FeatureStore(repo)
    store.apply()
    with pytest.raises(SourceDataError, match="must be a directory"):
        store.push("p", [{"m_id": 1, "x": 2, "event_timestamp": ts(2)}], to="offline")
    assert store.push("p", [{"m_id": 1, "x": 2, "event_timestamp": ts(2)}], to="online") == 1

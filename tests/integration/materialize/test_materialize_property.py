"""Materialized values equal a plain-Python reference of "latest row per entity in the
window", on random data full of ties; and equal the training-frame join at the window end."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from online_support import ACTIVITY_SCHEMA, activity_row, ts, write_parquet

from featurestore.materialize import latest
from featurestore.online import _redis_write

MEMBERS = list(range(5))
PACKED_ORDER = latest.packed_order
STATISTICS_BOUNDS = latest.statistics_bounds
FILE_ROWS = latest.FILE_ROWS


def _struct_order(*args):  # the ranking without the packed key: arg_max over the struct
    return PACKED_ORDER(*args)[0], None


row_st = st.tuples(
    st.sampled_from(MEMBERS),  # member
    st.integers(0, 4),  # event day: few values, many ties
    st.sampled_from([None, 0, 1]),  # created day (None: no created time)
)
files_st = st.lists(st.lists(row_st, max_size=6), min_size=1, max_size=3)


def _reference(files, start: int, end: int) -> list[int | None]:
    best: dict[int, tuple] = {}
    for f, rows in enumerate(files):
        for r, (member, day, created) in enumerate(rows):
            if not start <= day <= end:
                continue
            rank = (day, -1 if created is None else created, f, r)
            if member not in best or rank > best[member][0]:
                best[member] = (rank, f * 100 + r)
    return [best[m][1] if m in best else None for m in MEMBERS]


def _write(store, files) -> None:
    folder = store.repo_path / "data/activity"
    shutil.rmtree(folder)
    for f, rows in enumerate(files):
        write_parquet(
            folder / f"part-{f}.parquet",
            [
                activity_row(
                    member,
                    day,
                    plays=f * 100 + r,
                    created=None if created is None else ts(created),
                )
                for r, (member, day, created) in enumerate(rows)
            ],
            ACTIVITY_SCHEMA,
        )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    files=files_st,
    window=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    partition_rows=st.sampled_from([2, 5, 1000]),  # several hash partitions, or one
    packed=st.booleans(),  # rank by the packed integer, or by the (event, created, pos) struct
    ttl=st.booleans(),  # Redis writes new keys of a view without ttl with MSETNX
    statistics=st.booleans(),  # the packed order's time bounds from Parquet statistics, or a scan
    by_file=st.booleans(),  # the winners fetched one file at a time, or in one join
)
def test_latest_matches_reference(
    repo_factory, files, window, partition_rows, packed, ttl, statistics, by_file
) -> None:
    start, end = min(window), max(window)
    latest.PARTITION_ROWS = partition_rows
    _redis_write.CHUNK = 2  # batches of several chunks: MSETNX for new keys without ttl
    latest.packed_order = PACKED_ORDER if packed else _struct_order  # type: ignore[assignment]
    latest.statistics_bounds = STATISTICS_BOUNDS if statistics else lambda *_: None  # type: ignore[assignment]
    latest.FILE_ROWS = 0 if by_file else FILE_ROWS
    store = repo_factory(ttl_days=3650 if ttl else None)
    store.teardown()
    _write(store, files)
    [result] = store.materialize(ts(start), ts(end), views=["activity"])
    assert result.ok, result.error
    got = store.get_online_features(["activity:plays"], {"member_id": MEMBERS}).to_dict()
    assert got["plays"] == _reference(files, start, end)


@pytest.fixture(autouse=True)
def _restore_partition_rows() -> Iterator[None]:
    saved = latest.PARTITION_ROWS, _redis_write.CHUNK
    yield
    latest.PARTITION_ROWS, _redis_write.CHUNK = saved
    latest.packed_order = PACKED_ORDER  # type: ignore[assignment]
    latest.statistics_bounds = STATISTICS_BOUNDS  # type: ignore[assignment]
    latest.FILE_ROWS = FILE_ROWS


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(files=files_st, end=st.integers(0, 4))
def test_online_equals_offline_at_window_end(repo_factory, files, end) -> None:
    """Every entity's online values equal the point-in-time join at the window end."""
    store = repo_factory()
    store.teardown()
    _write(store, files)
    store.materialize(ts(0), ts(end), views=["activity"])
    features = ["activity:plays", "activity:score", "activity:genre"]
    online = store.get_online_features(features, {"member_id": MEMBERS}).to_arrow()
    entity_df = pa.table(
        {
            "member_id": pa.array(MEMBERS, pa.int64()),
            "event_timestamp": pa.array([ts(end)] * len(MEMBERS), pa.timestamp("us", "UTC")),
        }
    )
    offline = store.get_historical_features(entity_df, features).to_arrow()
    for name in ["plays", "score", "genre"]:
        assert online.column(name).to_pylist() == offline.column(name).to_pylist(), name

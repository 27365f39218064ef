"""The server's lookup answer built from Python lists (``lookup.to_proto``) is the same
message, byte for byte, as the in-process response encoded (``codec.response_to_proto``),
for any rows, features, nulls, missing and expired values, on the real embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurestore.errors import OnlineStoreError
from featurestore.online.reader import StoredRows, read_stored, respond
from featurestore.serving import codec, lookup
from featurestore.store import FeatureStore

DEFINITIONS = """
from datetime import timedelta

import polars as pl

from featurestore import (
    Entity, FeatureView, Field, ParquetSource, PushSource, on_demand_feature_view,
)
from featurestore.types import (
    Array, Bool, Bytes, Float32, Float64, Int32, Int64, String, UnixTimestamp,
)

item = Entity(name="item", join_keys=["item_id"])
shop = Entity(name="shop", join_keys=["shop"], value_type=String)
batch = ParquetSource(path="data/items.parquet")
every = FeatureView(
    name="every", entities=[item], ttl=timedelta(days=2),
    schema=[Field("b", Bool), Field("i32", Int32), Field("i64", Int64), Field("f32", Float32),
            Field("f64", Float64), Field("s", String), Field("by", Bytes),
            Field("ts", UnixTimestamp), Field("tags", Array(String))],
    source=PushSource(name="every_push", batch_source=batch),
)
stock = FeatureView(
    name="stock", entities=[item, shop],
    schema=[Field("count", Int64), Field("note", String)],
    source=PushSource(name="stock_push", batch_source=batch),
)


@on_demand_feature_view(sources=[stock], schema=[Field("double", Int64)])
def doubled(df: pl.DataFrame) -> pl.DataFrame:
    return df.select((pl.col("count") * 2).alias("double"))
"""
SCALAR = [
    "every:b",
    "every:i32",
    "every:i64",
    "every:f32",
    "every:f64",
    "every:s",
    "every:by",
    "every:ts",
    "stock:count",
    "stock:note",
]
IDS = range(12)  # 0-9 are stored (some expired, some with nulls); 10 and 11 are not
SHOPS = ["a", "b"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _every_rows(now: datetime) -> pa.Table:
    n = 10
    null = [i % 3 == 0 for i in range(n)]  # rows 0, 3, 6, 9 hold nulls
    rows = {
        "item_id": pa.array(range(n), pa.int64()),
        # rows 7-9 are older than the 2-day ttl, rows 0-6 an hour inside it
        "event_timestamp": pa.array(
            [now - timedelta(days=3 if i >= 7 else 2) + timedelta(hours=1) for i in range(n)],
            pa.timestamp("us", tz="UTC"),
        ),
        "b": pa.array([None if null[i] else i % 2 == 0 for i in range(n)]),
        "i32": pa.array([None if null[i] else -(2**31) + i for i in range(n)], pa.int32()),
        "i64": pa.array([None if null[i] else 2**62 * (-1) ** i for i in range(n)], pa.int64()),
        "f32": pa.array([None if null[i] else i / 3 for i in range(n)], pa.float32()),
        "f64": pa.array([float("nan") if i == 4 else -0.0 if i == 5 else i / 7 for i in range(n)]),
        "s": pa.array([None if null[i] else "é" * i for i in range(n)]),
        "by": pa.array([None if i == 1 else bytes([i]) * i for i in range(n)]),
        "ts": pa.array(
            [
                None if null[i] else datetime(1969, 12, 31, tzinfo=UTC) + timedelta(days=i)
                for i in range(n)
            ],
            pa.timestamp("us", tz="UTC"),
        ),
        "tags": pa.array([[f"t{i}"] * (i % 3) for i in range(n)], pa.list_(pa.string())),
    }
    return pa.table(rows)


def _stock_rows(now: datetime) -> pa.Table:
    keys = [(i, s) for i in range(10) for s in SHOPS if (i + len(s)) % 3]
    return pa.table(
        {
            "item_id": pa.array([k[0] for k in keys], pa.int64()),
            "shop": [k[1] for k in keys],
            "event_timestamp": pa.array([now] * len(keys), pa.timestamp("us", tz="UTC")),
            "count": pa.array([None if i % 4 == 0 else i for i, _ in keys], pa.int64()),
            "note": [f"{s}{i}" for i, s in keys],
        }
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeatureStore]:
    repo = tmp_path_factory.mktemp("lookup") / "repo"
    repo.mkdir()
    (repo / "featurestore.yaml").write_text("project: lookup_test\n")
    (repo / "items.py").write_text(DEFINITIONS)
    store = FeatureStore(repo)
    store.apply(plan=store.plan(check_data=False))
    now = datetime.now(UTC)
    store.push("every_push", _every_rows(now))
    store.push("stock_push", _stock_rows(now))
    store.pinned_version = store.registry.head()
    yield store
    store.online_store.close()


def _both(rows: StoredRows) -> tuple[bytes, bytes]:
    general = codec.response_to_proto(respond(rows), "v1")
    if rows.plan.scalar and 0 < rows.num_rows <= lookup.ROW_LIMIT:
        with mock.patch.object(lookup, "respond", side_effect=AssertionError("general path")):
            answer = lookup.to_proto(rows, "v1")  # built from lists, never from the response
    else:
        answer = lookup.to_proto(rows, "v1")
    return (
        answer.SerializeToString(deterministic=True),
        general.SerializeToString(deterministic=True),
    )


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(st.sampled_from(IDS), min_size=1, max_size=30),
    shops=st.data(),
    features=st.lists(st.sampled_from(SCALAR), min_size=1, max_size=10, unique=True),
    full_names=st.booleans(),
    arrow_keys=st.booleans(),
)
def test_the_answer_from_lists_equals_the_encoded_response(
    store: FeatureStore,
    ids: list[int],
    shops: Any,
    features: list[str],
    full_names: bool,
    arrow_keys: bool,
) -> None:
    """Entity keys given as plain Python values (echoed as they are) or as Arrow arrays."""
    shop = shops.draw(st.lists(st.sampled_from(SHOPS), min_size=len(ids), max_size=len(ids)))
    entity_rows: dict[str, Any] = {"item_id": ids, "shop": shop}
    if arrow_keys:
        entity_rows = {"item_id": pa.array(ids, pa.int32()), "shop": pa.array(shop)}
    answer, general = _both(read_stored(store, features, entity_rows, full_names))
    assert answer == general


@pytest.mark.parametrize(
    "features",
    [
        ["every:tags", "every:i64"],  # an Array feature
        ["doubled:double", "stock:note"],  # an on-demand feature
    ],
)
def test_other_requests_take_the_general_path(store: FeatureStore, features: list[str]) -> None:
    rows = read_stored(store, features, {"item_id": [1, 2, 11], "shop": ["a", "b", "a"]}, False)
    assert not rows.plan.scalar
    answer, general = _both(rows)
    assert answer == general


def test_every_status_and_value_kind_is_answered(store: FeatureStore) -> None:
    """The fixed data reaches every case the property test compares: each status, nulls,
    NaN and -0.0, and values on both sides of the ttl."""
    rows = read_stored(store, SCALAR[:8], {"item_id": [0, 5, 6, 7, 11, 4]}, False)
    msg = lookup.to_proto(rows, "v1")
    statuses = {f.name: list(f.statuses) for f in msg.features}
    assert statuses["i64"] == [1, 0, 1, 3, 2, 0]  # NULL, PRESENT, NULL, EXPIRED, NOT_FOUND
    assert statuses["f64"] == [0, 0, 0, 3, 2, 0]
    f64 = next(f for f in msg.features if f.name == "f64").values
    assert list(f64.nulls) == [False, False, False, True, True, False]
    assert str(f64.double_values.values[1]) == "-0.0"
    assert str(f64.double_values.values[5]) == "nan"
    stamps = msg.features[0].event_timestamps
    assert list(stamps.nulls) == [False, False, False, False, True, False]
    answer, general = _both(rows)
    assert answer == general


def test_limits_of_the_list_path(store: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """No rows, and more than ROW_LIMIT rows, go the general way, with the same answer."""
    monkeypatch.setattr(lookup, "ROW_LIMIT", 3)
    for ids in ([], [1, 2, 3, 4]):
        rows = read_stored(store, ["every:s"], {"item_id": ids}, False)
        answer, general = _both(rows)
        assert answer == general


def test_a_stored_value_of_another_layout_is_refused(store: FeatureStore) -> None:
    rows = read_stored(store, ["every:i64", "every:s"], {"item_id": [1, 2]}, False)
    rows.stored[0][1] = rows.stored[0][1][:-1]  # type: ignore[index]
    with pytest.raises(OnlineStoreError, match="rematerialize the view"):
        lookup.to_proto(rows, "v1")

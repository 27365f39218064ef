"""The real path: push and look up through the server, SQLite and Redis, against in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from featurestore import FeatureStatus
from featurestore.errors import RequestError
from featurestore.serving.client import FeatureClient
from featurestore.store import FeatureStore

pytestmark = pytest.mark.grpc

T1 = datetime(2026, 1, 1, tzinfo=UTC)


def rows(ids: list[int], when: datetime, trips: list[int | None]) -> pa.Table:
    return pa.table(
        {
            "driver_id": pa.array(ids, pa.int64()),
            "event_timestamp": pa.array([when] * len(ids), pa.timestamp("us", tz="UTC")),
            "conv_rate": pa.array([0.1 * i for i in ids], pa.float64()),
            "trips": pa.array(trips, pa.int64()),
            "city": pa.array([f"c{i}" for i in ids]),
        }
    )


def test_push_then_lookup_matches_in_process(
    repo_store: FeatureStore, serve: Callable[..., Any]
) -> None:
    server = serve(repo_store)
    client = FeatureClient(server.address)
    assert client.push("driver_push", rows([1, 2], T1, [10, None])) == 2
    # An older row pushed later never overwrites the newer one.
    client.push("driver_push", rows([1], T1 - timedelta(days=1), [99]))
    entity_rows = {"driver_id": [2, 1, 7, 1], "delay_s": [0.0, 0.0, 0.0, 0.0]}
    features = ["driver_stats:trips", "driver_stats:city", "slow_double:trips_x2"]
    remote = client.get_online_features(features, entity_rows, full_feature_names=True)
    local = repo_store.get_online_features(features, entity_rows, full_feature_names=True)
    assert remote.to_arrow(with_status=True).equals(local.to_arrow(with_status=True))
    assert remote.to_dict()["driver_stats__trips"] == [None, 10, None, 10]
    assert remote.statuses()["driver_stats__trips"] == [
        FeatureStatus.NULL,
        FeatureStatus.PRESENT,
        FeatureStatus.NOT_FOUND,
        FeatureStatus.PRESENT,
    ]
    assert remote.to_dict()["slow_double__trips_x2"][1] == 20


@pytest.mark.parametrize(
    "keys",
    [
        pa.array([3, 1, 3], pa.int64()),  # the plain path: a list of ints to the store
        pa.array([3, 1], pa.int32()),  # int32 on the wire, also a plain list
        pa.array([3, 1], pa.uint8()),  # widened to Int32 on the wire
        pa.array([3, None, 1], pa.int64()),  # a null key: Arrow to the store, its error
        pa.array(["3", "1"]),  # strings for an Int64 key: the store's error
        pa.array([3.0, 1.0]),  # floats for an Int64 key: the store's error
    ],
)
def test_any_key_column_gets_the_in_process_answer(
    repo_store: FeatureStore, serve: Callable[..., Any], keys: pa.Array
) -> None:
    client = FeatureClient(serve(repo_store).address)
    client.push("driver_push", rows([3], T1, [5]))
    entity_rows = pa.table({"driver_id": keys})
    try:
        local = repo_store.get_online_features("ranker", entity_rows)
    except RequestError as exc:
        with pytest.raises(RequestError) as remote_error:
            client.get_online_features("ranker", entity_rows)
        assert str(remote_error.value) == str(exc)
        return
    remote = client.get_online_features("ranker", entity_rows)
    assert remote.to_arrow(with_status=True).equals(local.to_arrow(with_status=True))
    assert remote.to_dict()["trips"][0] == 5


def test_service_lookup_and_bad_keys(repo_store: FeatureStore, serve: Callable[..., Any]) -> None:
    client = FeatureClient(serve(repo_store).address)
    client.push("driver_push", rows([3], T1, [5]))
    assert client.get_online_features("ranker", [{"driver_id": 3}]).to_dict() == {
        "driver_id": [3],
        "conv_rate": [pytest.approx(0.3)],
        "trips": [5],
    }
    with pytest.raises(RequestError, match="driver_id"):
        client.get_online_features("ranker", {"driver_id": ["not-a-number"]})
    with pytest.raises(RequestError, match="driver_id"):
        client.get_online_features("ranker", {"rider_id": [3]})
    with pytest.raises(RequestError, match="conv_rate"):
        client.push("driver_push", rows([3], T1, [5]).drop_columns(["conv_rate"]))

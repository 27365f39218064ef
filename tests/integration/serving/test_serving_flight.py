"""Training frames over Arrow Flight equal the in-process frame; errors and auth."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.flight as fl
import pytest

from featurestore.errors import RequestError, ServerError
from featurestore.serving.auth import parse_tokens
from featurestore.serving.client import FeatureClient

T0 = datetime(2026, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.grpc


def entity_rows(n: int = 6) -> pa.Table:
    return pa.table(
        {
            "driver_id": pa.array([1, 1, 2, 3, 4, 1][:n], pa.int64()),
            "event_timestamp": pa.array(
                [T0 + timedelta(hours=1), T0 + timedelta(hours=3), T0, T0, T0, T0][:n],
                pa.timestamp("us", tz="UTC"),
            ),
            "label": pa.array([0, 1, 0, 1, 0, 1][:n], pa.int64()),
        }
    )


def client_for(server: Any, **kwargs: Any) -> FeatureClient:
    return FeatureClient(server.address, flight=f"127.0.0.1:{server.flight.port}", **kwargs)


def test_flight_frame_equals_in_process(data_store: Any, serve: Callable[..., Any]) -> None:
    server = serve(data_store, flight_port=0)
    features = ["driver_stats:conv_rate", "driver_stats:trips", "driver_stats:city"]
    remote = client_for(server).get_historical_features(entity_rows(), features)
    local = data_store.get_historical_features(entity_rows(), features).to_arrow()
    assert remote.to_arrow().equals(local)
    assert remote.to_polars()["trips"].to_list() == [
        1,
        2,
        5,
        None,
        None,
        1,
    ]  # an event at exactly t counts
    assert len(remote.to_pandas()) == 6
    by_service = client_for(server).get_historical_features(
        entity_rows(), "ranker", full_feature_names=True
    )
    assert by_service.to_arrow().column_names[-2:] == [
        "driver_stats__conv_rate",
        "driver_stats__trips",
    ]
    assert 'featurestore_serving_requests_total{code="OK",method="Flight/DoExchange"} 2.0' in (
        server.metrics.text()
    )


def test_flight_errors_name_the_problem(data_store: Any, serve: Callable[..., Any]) -> None:
    server = serve(data_store, flight_port=0)
    client = client_for(server)
    with pytest.raises(RequestError, match="unknown feature 'driver_stats:nope'"):
        client.get_historical_features(entity_rows(), ["driver_stats:nope"])
    raw = fl.FlightClient(f"grpc://127.0.0.1:{server.flight.port}")
    writer, reader = raw.do_exchange(fl.FlightDescriptor.for_command(b"not json"))
    with pytest.raises(pa.ArrowInvalid, match="must be a JSON object"), writer:
        writer.begin(entity_rows().schema)
        writer.write_table(entity_rows())
        writer.done_writing()
        reader.read_all()


def _exchange(server: Any, command: bytes) -> pa.Table:
    raw = fl.FlightClient(f"grpc://127.0.0.1:{server.flight.port}")
    writer, reader = raw.do_exchange(fl.FlightDescriptor.for_command(command))
    with writer:
        writer.begin(entity_rows().schema)
        writer.write_table(entity_rows())
        writer.done_writing()
        return reader.read_all()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        # an empty list once fell through to command["feature_service"]: KeyError, INTERNAL
        ({"features": []}, "'features' must be a non-empty list"),
        ({"features": "driver_stats:trips"}, "'features' must be a non-empty list"),
        ({"features": ["driver_stats:trips", 3]}, "'features' must be a non-empty list"),
        ({"features": [""]}, "'features' must be a non-empty list"),
        ({}, "exactly one of 'features'"),
        ({"features": ["driver_stats:trips"], "feature_service": "ranker"}, "exactly one of"),
        ({"feature_service": ""}, "'feature_service' must be a feature service's name"),
        ({"feature_service": ["ranker"]}, "'feature_service' must be a feature service's name"),
        # "false" is truthy: a string flag must not quietly turn full names on
        ({"feature_service": "ranker", "full_feature_names": "false"}, "must be true or false"),
        ({"feature_service": "ranker", "filter_by_created_timestamp": 1}, "must be true or"),
        ({"feature_service": "ranker", "limit": 3}, "unknown keys \\['limit'\\]"),
        (["driver_stats:trips"], "must be a JSON object"),
    ],
)
def test_malformed_flight_commands_are_invalid_argument(
    data_store: Any, serve: Callable[..., Any], command: Any, message: str
) -> None:
    server = serve(data_store, flight_port=0)
    with pytest.raises(pa.ArrowInvalid, match=message):  # INVALID_ARGUMENT, not INTERNAL
        _exchange(server, json.dumps(command).encode())
    text = server.metrics.text()
    assert 'code="INVALID_ARGUMENT",method="Flight/DoExchange"} 1.0' in text
    assert 'code="INTERNAL"' not in text


def test_flight_flags_are_applied(data_store: Any, serve: Callable[..., Any]) -> None:
    server = serve(data_store, flight_port=0)
    command = {"features": ["driver_stats:trips"], "full_feature_names": True}
    assert _exchange(server, json.dumps(command).encode()).column_names[-1] == (
        "driver_stats__trips"
    )


def test_flight_needs_a_token_when_auth_is_on(data_store: Any, serve: Callable[..., Any]) -> None:
    server = serve(data_store, flight_port=0, tokens=parse_tokens("read:r", "test"))
    with pytest.raises(ServerError, match="UNAUTHENTICATED"):
        client_for(server).get_historical_features(entity_rows(), "ranker")
    with pytest.raises(ServerError, match="UNAUTHENTICATED"):
        client_for(server, token="wrong").get_historical_features(entity_rows(), "ranker")
    frame = client_for(server, token="r").get_historical_features(entity_rows(), "ranker")
    assert frame.to_arrow().num_rows == 6


def test_client_finds_the_flight_port_from_the_server(
    data_store: Any, serve: Callable[..., Any]
) -> None:
    with_flight = serve(data_store, flight_port=0)
    frame = FeatureClient(with_flight.address).get_historical_features(entity_rows(), "ranker")
    assert frame.to_arrow().num_rows == 6
    without = serve(data_store)  # no Flight endpoint
    with pytest.raises(ServerError, match=r"UNIMPLEMENTED: .* serves no Flight endpoint"):
        FeatureClient(without.address).get_historical_features(entity_rows(), "ranker")

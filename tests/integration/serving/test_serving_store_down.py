"""A Redis the test owns goes down and comes back: UNAVAILABLE and NOT_SERVING while it is
down, the server stays up, and recovers by itself."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import pyarrow as pa
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from featurestore.errors import OnlineStoreUnavailableError, ServerError
from featurestore.serving.client import FeatureClient
from featurestore.serving.server import SERVICE_NAME

pytestmark = [pytest.mark.grpc, pytest.mark.redis, pytest.mark.slow]

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def health(address: str) -> int:
    stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))
    return stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5).status


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def redis_config(project: str, url: str) -> str:
    return f"project: {project}\nonline_store:\n  type: redis\n  url: {url}\n"


def test_store_down_then_back(
    own_redis: Any,
    applied_repo: Callable[[str], Any],
    unique_project: str,
    serve: Callable[..., Any],
) -> None:
    config = redis_config(unique_project, own_redis.url)
    store = applied_repo(config)
    server = serve(store, probe_interval=0.1)
    client = FeatureClient(server.address, retries=0)
    pushed = pa.table(
        {
            "driver_id": [1],
            "event_timestamp": pa.array([datetime(2026, 1, 1, tzinfo=UTC)]),
            "conv_rate": [0.5],
            "trips": [4],
            "city": ["Oslo"],
        }
    )
    client.push("driver_push", pushed)
    assert health(server.address) == SERVING

    own_redis.stop()
    with pytest.raises(OnlineStoreUnavailableError, match="unavailable"):
        client.get_online_features("ranker", {"driver_id": [1]})
    wait_for(lambda: health(server.address) == NOT_SERVING)
    assert 'featurestore_serving_errors_total{code="UNAVAILABLE",method="GetOnlineFeatures"}' in (
        server.metrics.text()
    )

    own_redis.start()  # same port, empty (no persistence)
    wait_for(lambda: health(server.address) == SERVING)
    assert client.get_online_features("ranker", {"driver_id": [1]}).to_dict()["trips"] == [None]
    client.push("driver_push", pushed)
    assert client.get_online_features("ranker", {"driver_id": [1]}).to_dict()["trips"] == [4]


def test_store_that_hangs_turns_health_not_serving(
    own_redis: Any,
    applied_repo: Callable[[str], Any],
    unique_project: str,
    serve: Callable[..., Any],
) -> None:
    config = redis_config(unique_project, own_redis.url)
    server = serve(applied_repo(config), probe_interval=0.1, probe_timeout=0.3)
    assert health(server.address) == SERVING
    assert own_redis.proc is not None
    own_redis.proc.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        wait_for(lambda: health(server.address) == NOT_SERVING)
        with pytest.raises(ServerError, match="DEADLINE_EXCEEDED"):
            FeatureClient(server.address, retries=0).get_online_features(
                "ranker", {"driver_id": [1]}, timeout=0.5
            )
    finally:
        own_redis.proc.send_signal(signal.SIGCONT)
    wait_for(lambda: health(server.address) == SERVING)
    response = FeatureClient(server.address).get_online_features("ranker", {"driver_id": [1]})
    assert response.to_dict()["trips"] == [None]

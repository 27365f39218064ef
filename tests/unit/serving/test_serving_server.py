"""The server over real gRPC on loopback: lookups, push, metadata, errors, auth, health,
reflection, registry reload, limits, deadlines and metrics."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import grpc
import pyarrow as pa
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from featurestore import FeatureStatus
from featurestore._proto import serving_pb2 as pb
from featurestore._proto import serving_pb2_grpc as pb_grpc
from featurestore.errors import ConfigError, OnlineStoreUnavailableError, RequestError, ServerError
from featurestore.serving.auth import parse_tokens
from featurestore.serving.client import FeatureClient
from featurestore.serving.server import SERVICE_NAME, FeatureServer

pytestmark = pytest.mark.grpc

Serve = Callable[..., FeatureServer]


def stub(server: FeatureServer) -> pb_grpc.FeatureServingStub:
    return pb_grpc.FeatureServingStub(grpc.insecure_channel(server.address))


def ids(*values: int) -> pb.NamedColumn:
    return pb.NamedColumn(
        name="driver_id", column=pb.ValueColumn(int64_values=pb.Int64Values(values=values))
    )


def code_of(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code(), info.value.details()


def health_status(server: FeatureServer, service: str = SERVICE_NAME) -> int:
    channel = grpc.insecure_channel(server.address)
    reply = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )
    return reply.status


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# --- lookups ----------------------------------------------------------------------------


def test_lookup_returns_values_statuses_and_timestamps(serve: Serve) -> None:
    client = FeatureClient(serve().address)
    response = client.get_online_features(
        ["driver_stats:conv_rate", "driver_stats:city"], [{"driver_id": i} for i in (1, 2, 3, 1)]
    )
    assert response.to_dict() == {
        "driver_id": [1, 2, 3, 1],
        "conv_rate": [0.5, None, None, 0.5],
        "city": ["Oslo", "Rome", None, "Oslo"],
    }
    assert response.statuses()["conv_rate"] == [
        FeatureStatus.PRESENT,
        FeatureStatus.NULL,
        FeatureStatus.NOT_FOUND,
        FeatureStatus.PRESENT,
    ]
    assert response.features[0].event_timestamps.null_count == 1


def test_lookup_matches_in_process_result(serve: Serve, store: Any) -> None:
    client = FeatureClient(serve().address)
    rows = {"driver_id": [2, 1]}
    remote = client.get_online_features("ranker", rows, full_feature_names=True)
    local = store.get_online_features("ranker", rows, full_feature_names=True)
    assert remote.to_arrow(with_status=True).equals(local.to_arrow(with_status=True))
    assert remote.to_arrow().column_names == [
        "driver_id",
        "driver_stats__conv_rate",
        "driver_stats__trips",
    ]


def test_lookup_by_service_object_sends_its_refs(serve: Serve, store: Any) -> None:
    service = store.definitions().feature_service("ranker")
    response = FeatureClient(serve().address).get_online_features(service, {"driver_id": [1]})
    assert [c.name for c in response.features] == ["conv_rate", "trips"]


def test_response_carries_registry_version(serve: Serve, store: Any) -> None:
    reply = stub(serve()).GetOnlineFeatures(
        pb.GetOnlineFeaturesRequest(
            features=pb.FeatureRefs(refs=["driver_stats:trips"]), entities=[ids(1)]
        )
    )
    assert reply.registry_version == store.registry.head()
    assert reply.features[0].values.int64_values.values == [10]
    assert reply.features[0].statuses == bytes([FeatureStatus.PRESENT])


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            pb.GetOnlineFeaturesRequest(
                features=pb.FeatureRefs(refs=["driver_stats:nope"]), entities=[ids(1)]
            ),
            "unknown feature 'driver_stats:nope'",
        ),  # unknown feature, named
        (
            pb.GetOnlineFeaturesRequest(
                features=pb.FeatureRefs(refs=["ghost:x"]), entities=[ids(1)]
            ),
            "unknown feature view 'ghost'",
        ),  # unknown view, named
        (
            pb.GetOnlineFeaturesRequest(feature_service="nobody", entities=[ids(1)]),
            "unknown feature service 'nobody'",
        ),  # unknown service, named
        (
            pb.GetOnlineFeaturesRequest(entities=[ids(1)]),
            "no features requested",
        ),  # selection unset
        (
            pb.GetOnlineFeaturesRequest(feature_service="ranker"),
            "no entity columns",
        ),  # no keys at all
        (
            pb.GetOnlineFeaturesRequest(
                feature_service="ranker",
                entities=[pb.NamedColumn(name="driver_id", column=pb.ValueColumn())],
            ),
            "column 'driver_id' has no values set",
        ),  # key column without a type
        (
            pb.GetOnlineFeaturesRequest(
                feature_service="ranker",
                entities=[
                    ids(1, 2),
                    pb.NamedColumn(
                        name="x", column=pb.ValueColumn(int64_values=pb.Int64Values(values=[1]))
                    ),
                ],
            ),
            "same length",
        ),  # ragged key columns
        (
            pb.GetOnlineFeaturesRequest(
                feature_service="ranker",
                entities=[
                    pb.NamedColumn(
                        name="rider_id", column=pb.ValueColumn(int64_values=pb.Int64Values())
                    )
                ],
            ),
            "driver_id",
        ),  # the view's join key is missing
    ],
)
def test_bad_requests_are_invalid_argument(
    serve: Serve, request_: pb.GetOnlineFeaturesRequest, message: str
) -> None:
    code, details = code_of(lambda: stub(serve()).GetOnlineFeatures(request_))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details


def test_client_raises_request_error_with_server_message(serve: Serve) -> None:
    with pytest.raises(RequestError, match="unknown feature 'driver_stats:nope'"):
        FeatureClient(serve().address).get_online_features(
            ["driver_stats:nope"], {"driver_id": [1]}
        )


def test_too_many_entities_is_refused_clearly(serve: Serve) -> None:
    server = serve(max_entities=3)
    request = pb.GetOnlineFeaturesRequest(feature_service="ranker", entities=[ids(1, 2, 3, 4)])
    code, details = code_of(lambda: stub(server).GetOnlineFeatures(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "4 entity rows" in details and "at most 3" in details
    stub(server).GetOnlineFeatures(
        pb.GetOnlineFeaturesRequest(feature_service="ranker", entities=[ids(1, 2, 3)])
    )  # exactly the limit is fine


def test_oversized_message_is_resource_exhausted(serve: Serve) -> None:
    server = serve(max_message_bytes=1024)
    request = pb.GetOnlineFeaturesRequest(feature_service="ranker", entities=[ids(*range(500))])
    code, details = code_of(lambda: stub(server).GetOnlineFeatures(request))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in details


def test_store_down_is_unavailable_then_recovers_with_health(serve: Serve, store: Any) -> None:
    server = serve(probe_interval=0.05)
    client = FeatureClient(server.address, retries=0)
    assert health_status(server) == health_pb2.HealthCheckResponse.SERVING
    store.down = True
    with pytest.raises(OnlineStoreUnavailableError, match="refused the connection"):
        client.get_online_features("ranker", {"driver_id": [1]})
    assert health_status(server) == health_pb2.HealthCheckResponse.NOT_SERVING
    assert health_status(server, "") == health_pb2.HealthCheckResponse.NOT_SERVING
    store.down = False
    wait_for(lambda: health_status(server) == health_pb2.HealthCheckResponse.SERVING)
    assert client.get_online_features("ranker", {"driver_id": [1]}).to_dict()["trips"] == [10]


def test_client_retries_unavailable_with_backoff(serve: Serve, store: Any) -> None:
    calls = {"n": 0}
    original = store.online_store.read

    def flaky(requests: Any) -> Any:
        calls["n"] += 1
        store.down = calls["n"] <= 2
        return original(requests)

    server = serve(probe_interval=60)
    store.online_store.read = flaky
    response = FeatureClient(server.address, retries=3).get_online_features(
        "ranker", {"driver_id": [1]}
    )
    assert response.to_dict()["trips"] == [10]
    assert calls["n"] == 3  # two UNAVAILABLE answers, then success
    calls["n"] = 0
    with pytest.raises(OnlineStoreUnavailableError):
        FeatureClient(server.address, retries=0).get_online_features("ranker", {"driver_id": [1]})
    assert calls["n"] == 1  # no retry at all


def test_deadline_is_honoured(serve: Serve, store: Any) -> None:
    original = store.online_store.read

    def slow(requests: Any) -> Any:
        time.sleep(0.5)
        return original(requests)

    server = serve(probe_interval=60)
    store.online_store.read = slow
    client = FeatureClient(server.address)
    with pytest.raises(ServerError, match="DEADLINE_EXCEEDED"):
        client.get_online_features("ranker", {"driver_id": [1]}, timeout=0.1)
    # The server is still fine afterwards.
    assert client.get_online_features("ranker", {"driver_id": [1]}, timeout=5).to_dict()


def test_empty_registry_is_failed_precondition(
    serve: Serve, store: Any, make_repo: Callable[..., Any]
) -> None:
    empty = type(store)(make_repo(config="project: empty\n", name="empty"))
    server = serve(store=empty)
    code, details = code_of(lambda: stub(server).GetServerInfo(pb.GetServerInfoRequest()))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "featurestore apply" in details


# --- push and metadata ------------------------------------------------------------------


def test_push_delivers_the_rows(serve: Serve, store: Any) -> None:
    client = FeatureClient(serve().address)
    rows = pa.table({"driver_id": [1, 2], "speed": [3.5, None]})
    assert client.push("driver_push", rows, to="online_and_offline") == 2
    name, table, target = store.pushed[0]
    assert (name, target) == ("driver_push", "online_and_offline")
    assert table.to_pydict() == rows.to_pydict()
    with pytest.raises(RequestError, match="unknown push source 'nope'"):
        client.push("nope", rows)
    with pytest.raises(RequestError, match="push target 'everywhere'"):
        client.push("driver_push", rows, to="everywhere")


def test_list_views_and_describe_service(serve: Serve, store: Any) -> None:
    client = FeatureClient(serve().address)
    views = client.list_feature_views()
    assert [v.name for v in views.feature_views] == ["driver_live", "driver_stats"]
    assert [e.name for e in views.entities] == ["driver"]
    assert views.registry_version == store.registry.head()
    described = client.describe_feature_service("ranker")
    assert [(c.name, c.dtype) for c in described.entity_columns] == [("driver_id", "Int64")]
    assert [(c.name, c.dtype) for c in described.feature_columns] == [
        ("conv_rate", "Float64"),
        ("trips", "Int64"),
    ]
    with pytest.raises(RequestError, match="unknown feature service 'x'"):
        client.describe_feature_service("x")


# --- registry reload --------------------------------------------------------------------


def test_new_registry_version_is_picked_up_unless_pinned(
    serve: Serve, store: Any, definitions: Callable[..., Any]
) -> None:
    first = store.registry.head()
    following = serve(reload_interval=0.05)
    second = type(store)(store.repo_path)  # a server owns its store: give each its own
    second.rows, second.pushed = store.rows, []
    pinned = serve(store=second, registry_version=first[:12])  # a prefix pins too
    new = store.registry.commit(
        definitions(store.project, extra_feature=True), parent=first, author="test"
    )
    wait_for(lambda: FeatureClient(following.address).server_info().registry_version == new)
    info = FeatureClient(pinned.address).server_info()
    assert (info.registry_version, info.registry_pinned) == (first, True)
    assert FeatureClient(following.address).server_info().registry_pinned is False
    with pytest.raises(RequestError, match="unknown feature 'driver_stats:rating'"):
        FeatureClient(pinned.address).get_online_features(
            ["driver_stats:rating"], {"driver_id": [1]}
        )


# --- auth -------------------------------------------------------------------------------


def test_tokens_and_scopes(serve: Serve) -> None:
    server = serve(tokens=parse_tokens("read:r-token\nwrite:w-token", "test"))
    rows = pa.table({"driver_id": [1], "speed": [1.0]})
    with pytest.raises(ServerError, match="UNAUTHENTICATED: this server needs a token"):
        FeatureClient(server.address).get_online_features("ranker", {"driver_id": [1]})
    with pytest.raises(ServerError, match="UNAUTHENTICATED: the token is not valid"):
        FeatureClient(server.address, token="guess").server_info()
    reader = FeatureClient(server.address, token="r-token")
    assert reader.get_online_features("ranker", {"driver_id": [1]}).to_dict()["trips"] == [10]
    with pytest.raises(ServerError, match="PERMISSION_DENIED: Push needs a token with the write"):
        reader.push("driver_push", rows)
    assert FeatureClient(server.address, token="w-token").push("driver_push", rows) == 1
    # Health answers without a token (load balancers do not carry one).
    assert health_status(server) == health_pb2.HealthCheckResponse.SERVING


# --- reflection and metrics -------------------------------------------------------------


def test_reflection_lists_the_service(serve: Serve) -> None:
    channel = grpc.insecure_channel(serve().address)
    replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    names = {s.name for r in replies for s in r.list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health"} <= names


def test_metrics_count_calls_by_method_and_code(serve: Serve, store: Any) -> None:
    server = serve(metrics_port=0)
    client = FeatureClient(server.address)
    client.get_online_features("ranker", {"driver_id": [1]})
    with pytest.raises(RequestError):
        client.get_online_features(["driver_stats:nope"], {"driver_id": [1]})
    text = server.metrics.text()
    assert 'featurestore_serving_requests_total{code="OK",method="GetOnlineFeatures"} 1.0' in text
    assert (
        'featurestore_serving_errors_total{code="INVALID_ARGUMENT",method="GetOnlineFeatures"} 1.0'
        in text
    )
    assert f'featurestore_registry_version_info{{version="{store.registry.head()}"}} 1.0' in text
    assert 'featurestore_online_store_seconds_count{operation="read"} 2.0' in text
    assert "featurestore_online_store_up 1.0" in text
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics") as reply:
        assert "featurestore_serving_request_seconds_bucket" in reply.read().decode()


# --- startup refusals -------------------------------------------------------------------


def test_busy_port_and_open_bind_are_refused(serve: Serve) -> None:
    first = serve()
    with pytest.raises(ConfigError, match=re.escape(f"cannot listen on 127.0.0.1:{first.port}")):
        serve(port=first.port)
    with pytest.raises(ConfigError, match=re.escape("refusing to serve on 0.0.0.0")):
        serve(host="0.0.0.0")


def test_reuse_port_servers_share_one_port(serve: Serve) -> None:
    first = serve(reuse_port=True)
    second = serve(reuse_port=True, port=first.port)
    with pytest.raises(ConfigError, match="cannot listen"):  # one that did not ask to share
        serve(port=first.port)
    for _ in range(24):  # a connection each: the kernel spreads them over both servers
        options = [("grpc.use_local_subchannel_pool", 1)]
        with grpc.insecure_channel(first.address, options=options) as channel:
            pb_grpc.FeatureServingStub(channel).GetServerInfo(pb.GetServerInfoRequest(), timeout=5)
    for server in (first, second):
        assert 'requests_total{code="OK",method="GetServerInfo"}' in server.metrics.text()


def test_busy_side_ports_stop_the_server_cleanly(serve: Serve) -> None:
    first = serve(metrics_port=0, flight_port=0)
    assert first.flight is not None
    with pytest.raises(ConfigError, match="metrics cannot listen"):
        serve(metrics_port=first.metrics_port)
    with pytest.raises(ConfigError, match="Flight cannot listen"):
        serve(flight_port=first.flight.port)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (pb.PushRequest(columns=[ids(1)]), "push_source is empty"),  # no source named
        (
            pb.PushRequest(push_source="driver_push", columns=[ids(1)], to=7),  # type: ignore[arg-type]
            "push target 7 is not a PushTarget",
        ),  # an enum number this server does not know
        (pb.PushRequest(push_source="driver_push"), "no pushed columns"),  # no rows at all
    ],
)
def test_bad_pushes_are_invalid_argument(
    serve: Serve, request_: pb.PushRequest, message: str
) -> None:
    code, details = code_of(lambda: stub(serve()).Push(request_))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details

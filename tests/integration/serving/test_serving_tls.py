"""TLS and mTLS with certificates made at test time by the openssl CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from featurestore.errors import OnlineStoreUnavailableError, ServerError
from featurestore.serving.auth import TlsFiles
from featurestore.serving.client import FeatureClient

pytestmark = pytest.mark.grpc

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def sqlite_store(applied_repo: Callable[[str], Any], unique_project: str) -> Any:
    return applied_repo(f"project: {unique_project}\n")


def test_tls_server_needs_a_tls_client(
    certs: Path, sqlite_store: Any, serve: Callable[..., Any]
) -> None:
    tls = TlsFiles(cert=certs / "server.pem", key=certs / "server.key")
    server = serve(sqlite_store, tls=tls)
    client = FeatureClient(server.address, tls=certs / "ca.pem")
    assert client.server_info().project == sqlite_store.project
    assert client.get_online_features("ranker", {"driver_id": [1]}).to_dict()["trips"] == [None]
    with pytest.raises(OnlineStoreUnavailableError):
        FeatureClient(server.address, retries=0, timeout=2).server_info()


def test_mtls_needs_a_client_certificate(
    certs: Path, sqlite_store: Any, serve: Callable[..., Any]
) -> None:
    tls = TlsFiles(certs / "server.pem", certs / "server.key", client_ca=certs / "ca.pem")
    server = serve(sqlite_store, tls=tls, host="127.0.0.1")
    with_cert = FeatureClient(
        server.address,
        tls=certs / "ca.pem",
        client_cert=certs / "client.pem",
        client_key=certs / "client.key",
    )
    assert with_cert.server_info().project == sqlite_store.project
    without = FeatureClient(server.address, tls=certs / "ca.pem", retries=0, timeout=2)
    with pytest.raises(OnlineStoreUnavailableError):
        without.server_info()


def test_flight_over_mtls(certs: Path, data_store: Any, serve: Callable[..., Any]) -> None:
    tls = TlsFiles(certs / "server.pem", certs / "server.key", client_ca=certs / "ca.pem")
    server = serve(data_store, tls=tls, flight_port=0)
    entity = pa.table(
        {
            "driver_id": pa.array([1, 2], pa.int64()),
            "event_timestamp": pa.array([T0, T0], pa.timestamp("us", tz="UTC")),
        }
    )
    client = FeatureClient(
        server.address,
        tls=certs / "ca.pem",
        client_cert=certs / "client.pem",
        client_key=certs / "client.key",
        flight=f"127.0.0.1:{server.flight.port}",
    )
    frame = client.get_historical_features(entity, "ranker").to_arrow()
    assert frame.column("trips").to_pylist() == [1, 5]
    without = FeatureClient(
        server.address, tls=certs / "ca.pem", flight=f"127.0.0.1:{server.flight.port}"
    )
    with pytest.raises((ServerError, OnlineStoreUnavailableError)):
        without.get_historical_features(entity, "ranker", timeout=5)

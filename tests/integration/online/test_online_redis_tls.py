"""The Redis online store over TLS, with a password from the URL or REDIS_PASSWORD, against
a redis-server of the test's own that listens on TLS only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from online_support import activity_row, make_store, ts

from featurestore.errors import OnlineStoreError, OnlineStoreUnavailableError

pytestmark = pytest.mark.redis


@pytest.fixture
def tls_redis(certs: Path, redis_servers: Callable[..., Any]) -> Any:
    server = redis_servers(tls=certs)
    server.start("--requirepass", "s3cret")
    return server


def _lookup(store) -> list[int | None]:
    return store.get_online_features(["activity:plays"], {"member_id": [1]}).to_dict()["plays"]


def test_tls_with_password_in_the_url(tls_redis: Any, tmp_path: Path) -> None:
    url = tls_redis.url.replace("rediss://", "rediss://:s3cret@")
    store = make_store(tmp_path / "repo", "redis", url, "tls", activity=[activity_row(1, 1, 4)])
    store.materialize(ts(0), ts(2))
    assert _lookup(store) == [4]


def test_tls_with_password_from_the_environment(
    tls_redis: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    store = make_store(
        tmp_path / "repo", "redis", tls_redis.url, "tls", activity=[activity_row(1, 1, 4)]
    )
    store.materialize(ts(0), ts(2))
    assert _lookup(store) == [4]

    monkeypatch.setenv("REDIS_PASSWORD", "wrong")
    wrong = make_store(tmp_path / "wrong", "redis", tls_redis.url, "tls")
    with pytest.raises(OnlineStoreError, match="refused our credentials"):
        _lookup(wrong)


def test_plain_connection_to_a_tls_port_is_unavailable(tls_redis: Any, tmp_path: Path) -> None:
    plain = f"redis://:s3cret@127.0.0.1:{tls_redis.port}/0?socket_timeout=2"
    store = make_store(tmp_path / "repo", "redis", plain, "tls")
    with pytest.raises(OnlineStoreUnavailableError, match=f"127.0.0.1:{tls_redis.port}"):
        _lookup(store)

"""Faults: Redis unreachable or killed mid-job gives a clear error, leaves watermarks as
they were, and a rerun leaves the store exactly as a clean run would."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from online_support import activity_row, make_store, ts

from featurestore import FeatureStore
from featurestore.errors import OnlineStoreError, OnlineStoreUnavailableError
from featurestore.materialize import latest
from featurestore.materialize.jobs import materialize
from featurestore.materialize.watermarks import all_watermarks
from featurestore.online import _redis_write

pytestmark = pytest.mark.redis

ROWS = [activity_row(m, 1 + (m % 7) / 10, plays=m) for m in range(120)]


def _dump(url: str, project: str) -> dict[bytes, tuple[bytes, int]]:
    """Every key of the project (without the project part) with its value and expiry."""
    client = redis.Redis.from_url(url)
    out = {}
    for key in client.scan_iter(match=f"fs:{project}:*"):
        out[key.split(b":", 2)[2]] = (client.get(key), round(client.pttl(key) / 60_000))
    client.close()
    return out


# A view with a ttl is written by the script (SET ... PXAT per key); one without, where
# keys are new, by MSETNX (in batches of several chunks: CHUNK is made small).
TTLS = pytest.mark.parametrize("ttl_days", [3650, None], ids=["ttl", "no-ttl"])


@TTLS
def test_killed_mid_job(own_redis: Any, tmp_path: Path, monkeypatch, ttl_days) -> None:
    monkeypatch.setattr(latest, "BATCH_ROWS", 10)
    monkeypatch.setattr(_redis_write, "CHUNK", 4)
    repo = tmp_path / "repo"
    store = make_store(repo, "redis", own_redis.url, "faults", activity=ROWS, ttl_days=ttl_days)
    batches = []

    def kill_after_two(view: str, rows: int) -> None:
        batches.append(rows)
        if len(batches) == 2:
            own_redis.kill()

    with pytest.raises(OnlineStoreUnavailableError, match=f"127.0.0.1:{own_redis.port}"):
        materialize(store, ts(0), ts(2), views=["activity"], progress=kill_after_two)
    assert all_watermarks(store) == {}
    with pytest.raises(OnlineStoreUnavailableError):
        store.get_online_features(["activity:plays"], [{"member_id": 1}])

    own_redis.start()  # back, empty (no persistence); the rerun fills it
    [result] = store.materialize(ts(0), ts(2), views=["activity"])
    assert result.ok and result.rows_written == 120
    assert list(all_watermarks(store)) == ["activity"]
    clean_repo = tmp_path / "clean"
    clean = make_store(
        clean_repo, "redis", own_redis.url, "clean", activity=ROWS, ttl_days=ttl_days
    )
    clean.materialize(ts(0), ts(2), views=["activity"])
    assert _dump(own_redis.url, "faults") == _dump(own_redis.url, "clean")


@TTLS
def test_crash_mid_job_then_rerun_equals_clean_run(
    redis_url: str, unique_project: str, tmp_path: Path, monkeypatch, ttl_days
) -> None:
    """Half-written state (the process died after some batches) plus a rerun is a clean run."""
    monkeypatch.setattr(latest, "BATCH_ROWS", 10)
    monkeypatch.setattr(_redis_write, "CHUNK", 4)
    data = {"activity": ROWS, "ttl_days": ttl_days}
    store = make_store(tmp_path / "repo", "redis", redis_url, unique_project, **data)
    clean = make_store(tmp_path / "clean", "redis", redis_url, f"{unique_project}_c", **data)
    try:

        def crash(view: str, rows: int) -> None:
            if rows >= 30:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            materialize(store, ts(0), ts(2), views=["activity"], progress=crash)
        assert all_watermarks(store) == {}
        partial = _dump(redis_url, unique_project)
        assert 0 < len(partial) < 120
        store.materialize(ts(0), ts(2), views=["activity"])
        clean.materialize(ts(0), ts(2), views=["activity"])
        assert _dump(redis_url, unique_project) == _dump(redis_url, f"{unique_project}_c")
    finally:
        store.teardown()
        clean.teardown()


def test_unreachable_redis(tmp_path: Path, redis_servers: Callable[..., Any]) -> None:
    url = f"redis://user:s3cret@127.0.0.1:{redis_servers().port}/0"  # a free port, not started
    store = make_store(tmp_path / "repo", "redis", url, "down", activity=ROWS)
    with pytest.raises(OnlineStoreUnavailableError) as info:
        store.materialize(ts(0), ts(2))
    assert "127.0.0.1" in str(info.value) and "s3cret" not in str(info.value)
    assert all_watermarks(store) == {}


def test_password_from_url_or_environment(own_redis: Any, tmp_path: Path, monkeypatch):
    own_redis.kill()
    own_redis.start("--requirepass", "s3cret")
    url = own_redis.url
    with_password = url.replace("redis://", "redis://:s3cret@")
    store = make_store(tmp_path / "url", "redis", with_password, "auth", activity=ROWS[:3])
    [result] = store.materialize(ts(0), ts(2), views=["activity"])
    assert result.ok and result.rows_written == 3

    no_password = make_store(tmp_path / "env", "redis", url, "auth", activity=ROWS[:3])
    with pytest.raises(OnlineStoreError, match="REDIS_PASSWORD") as info:
        no_password.get_online_features(["activity:plays"], [{"member_id": 1}])
    assert not isinstance(info.value, OnlineStoreUnavailableError)  # retrying will not help

    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    from featurestore import FeatureStore

    from_env = FeatureStore(tmp_path / "env")
    got = from_env.get_online_features(["activity:plays"], [{"member_id": 1}]).to_dict()
    assert got["plays"] == [1]


def test_a_hung_redis_times_out_with_a_clear_error(tmp_path: Path, own_redis) -> None:
    """A server that accepts connections but never answers (SIGSTOP) ends the read after
    the configured timeout, as an unavailable store, instead of holding the caller."""
    store = make_store(
        tmp_path / "repo",
        "redis",
        own_redis.url,
        "hung",
        activity=[activity_row(1, 1)],
    )
    config = store.config.online_store
    store = FeatureStore(
        store.repo_path,
        config=store.config.model_copy(
            update={"online_store": config.model_copy(update={"timeout": 0.5})}
        ),
    )
    store.materialize(ts(0), ts(2), views=["activity"])
    assert own_redis.proc is not None
    own_redis.proc.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(OnlineStoreUnavailableError, match=r"127\.0\.0\.1"):
            store.get_online_features(["activity:plays"], [{"member_id": 1}])
    finally:
        own_redis.proc.send_signal(signal.SIGCONT)
    assert store.get_online_features(["activity:plays"], [{"member_id": 1}]).to_dict()["plays"] == [
        1
    ]

"""Leases: one holder at a time, expiry frees a crashed holder's lease, tokens guard
renew and release. The file variant on a controllable clock, the Redis one for real."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sched_fakes import Clock

from featurestore.errors import OnlineStoreUnavailableError
from featurestore.materialize.leases import FileLeases, Leases, RedisLeases, hold


@pytest.fixture
def redis_leases(redis_url: str) -> Iterator[RedisLeases]:
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:lease:"
    yield RedisLeases(client, prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def check_exclusive(leases: Leases) -> None:
    token = leases.acquire("v", 30)
    assert token is not None
    assert leases.acquire("v", 30) is None  # held
    assert leases.acquire("w", 30) is not None  # another view is independent
    assert not leases.renew("v", "not-the-token", 30)
    leases.release("v", "not-the-token")  # not ours: no effect
    assert leases.acquire("v", 30) is None
    assert leases.renew("v", token, 30)
    leases.release("v", token)
    assert leases.acquire("v", 30) is not None  # free again


def test_file_lease_is_exclusive(tmp_path: Path) -> None:
    check_exclusive(FileLeases(tmp_path))


@pytest.mark.redis
def test_redis_lease_is_exclusive(redis_leases: RedisLeases) -> None:
    check_exclusive(redis_leases)


def test_file_lease_expires_by_itself(tmp_path: Path) -> None:
    clock = Clock()
    leases = FileLeases(tmp_path, clock=clock.seconds)
    crashed = leases.acquire("v", 10)
    assert crashed is not None
    clock.advance(seconds=9.999)
    assert leases.acquire("v", 10) is None  # still within its ttl
    clock.advance(seconds=0.001)
    successor = leases.acquire("v", 10)  # expired exactly at ttl
    assert successor is not None
    assert not leases.renew("v", crashed, 10)  # the old holder cannot take it back
    leases.release("v", crashed)
    assert leases.acquire("v", 10) is None


def test_a_torn_lease_file_counts_as_free(tmp_path: Path) -> None:
    (tmp_path / "v.lease").write_text("{")
    assert FileLeases(tmp_path).acquire("v", 10) is not None


@pytest.mark.redis
def test_redis_lease_expires_by_itself(redis_leases: RedisLeases) -> None:
    crashed = redis_leases.acquire("v", 0.05)
    assert crashed is not None
    deadline = time.monotonic() + 10
    successor = None
    while successor is None and time.monotonic() < deadline:
        time.sleep(0.02)
        successor = redis_leases.acquire("v", 30)
    assert successor is not None
    assert not redis_leases.renew("v", crashed, 30)
    redis_leases.release("v", crashed)  # compare-and-delete: the successor keeps it
    assert redis_leases.acquire("v", 30) is None


@pytest.mark.redis
@pytest.mark.slow
def test_hold_renews_while_the_block_runs(redis_leases: RedisLeases) -> None:
    with hold(redis_leases, "v", ttl=1.5) as held:
        assert held is not None
        time.sleep(2.5)  # longer than the ttl: only renewal keeps it
        assert redis_leases.acquire("v", 30) is None
        assert not held.lost.is_set()
    assert redis_leases.acquire("v", 30) is not None  # released on exit


def test_hold_yields_none_when_taken(tmp_path: Path) -> None:
    leases = FileLeases(tmp_path)
    with hold(leases, "v") as first, hold(leases, "v") as second:
        assert first is not None and second is None
    with hold(leases, "v") as third:
        assert third is not None


def test_unreachable_redis_is_a_clear_error() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    with pytest.raises(OnlineStoreUnavailableError, match="Redis is unavailable"):
        RedisLeases(client, "x:").acquire("v", 10)

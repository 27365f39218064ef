"""Writes of whole batches: repeated keys within a batch, batches over many script chunks,
and a ttl view's expiry per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from online_support import ACTIVITY_SCHEMA, activity_row, ts

from featurestore.online._pack import codec_for, pack_batch
from featurestore.online._redis_write import CHUNK
from featurestore.online.base import ReadRequest


def _batch(rows: list[dict]) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=ACTIVITY_SCHEMA)
    return table.rename_columns(
        ["member_id", "plays", "score", "genre", "__event_ts", "__created_ts"]
    )


def _read(store, view, members: list[int], feature: str = "plays") -> list:
    keys = pa.array([str(m).encode() for m in members], pa.binary())
    raw = store.online_store.read([ReadRequest(view, keys)])[0]
    return codec_for(view).decode(raw, [feature]).columns[feature].to_pylist()


@pytest.mark.parametrize(
    ("pairs", "winner"),
    [
        ([(2, 1), (1, 1)], 0),  # the older row comes second in the batch: the first stays
        ([(1, 1), (2, 1)], 1),  # the newer row comes second: it replaces the first
        ([(1, 2), (1, 1)], 0),  # same event, older created second: the first stays
        ([(1, 1), (1, 1)], 1),  # a full tie: the later row wins, as across batches
        ([(1, 1), (3, 1), (2, 1)], 1),  # three rows: the newest, in the middle, wins
    ],
)
def test_repeated_key_in_one_batch_keeps_the_newest(repo_factory, pairs, winner) -> None:
    store = repo_factory()
    view = store.definitions().feature_view("activity")
    rows = [
        activity_row(7, day, plays=10 + i, created=ts(created))
        for i, (day, created) in enumerate(pairs)
    ]
    store.online_store.write(pack_batch(view, _batch(rows)))
    assert _read(store, view, [7]) == [10 + winner]


@pytest.mark.parametrize("ttl_days", [3650, None])  # the script alone; MSETNX first
def test_batch_over_several_chunks(repo_factory, ttl_days) -> None:
    """Keys of varying length and values of varying width (a string feature) across chunk
    boundaries; every other entity already holds a newer value."""
    store = repo_factory(ttl_days=ttl_days)
    view = store.definitions().feature_view("activity")
    n = 2 * CHUNK + 37
    members = [m * 7919 for m in range(n)]  # 1 to 8 digits
    stored = [activity_row(m, 5, plays=1) for m in members[::2]]
    store.online_store.write(pack_batch(view, _batch(stored)))
    incoming = [
        activity_row(m, 4 if i % 2 == 0 else 6, plays=i, genre="x" * (i % 13))
        for i, m in enumerate(members)
    ]
    written = store.online_store.write(pack_batch(view, _batch(incoming)))
    assert written == n // 2  # the odd positions: absent before
    assert _read(store, view, members) == [1 if i % 2 == 0 else i for i in range(n)]
    genres = _read(store, view, members, "genre")
    assert genres == ["g1" if i % 2 == 0 else "x" * (i % 13) for i in range(n)]


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis"])  # inspects Redis key expiry
def test_ttl_view_expiry_per_key_in_one_batch(repo_factory, backend) -> None:
    import redis

    from featurestore.online.redis import EXPIRE_MARGIN

    store = repo_factory(ttl_days=1)
    view = store.definitions().feature_view("activity")
    now = datetime.now(UTC).replace(microsecond=0)
    events = [now - timedelta(hours=h) for h in (1, 5, 30)]  # the last is past ttl + margin
    rows = [activity_row(m, 0, event_timestamp=e, created=e) for m, e in enumerate(events)]
    assert store.online_store.write(pack_batch(view, _batch(rows))) == 2
    client = redis.Redis.from_url(store.config.online_store.url)  # type: ignore[union-attr]
    prefix = store.online_store.key_prefix(view.name, codec_for(view).schema_version)  # type: ignore[attr-defined]
    for member, event in enumerate(events[:2]):
        expected = event + timedelta(days=1) + EXPIRE_MARGIN
        at_ms = client.pexpiretime(prefix + str(member).encode())
        assert at_ms == int(expected.timestamp() * 1000)
    assert client.exists(prefix + b"2") == 0
    client.close()


def test_new_keys_then_existing_ones_in_later_chunks(repo_factory, monkeypatch) -> None:
    """The first chunk is all new (MSETNX on Redis), later chunks hold an
    existing key with a newer value (kept), one with an older value (replaced) and a key
    repeated within the batch (the newer row wins)."""
    import featurestore.online._redis_write as redis_write

    monkeypatch.setattr(redis_write, "CHUNK", 3)
    store = repo_factory(ttl_days=None)  # MSETNX sets no expiry: used for views without ttl
    view = store.definitions().feature_view("activity")
    stored = [activity_row(4, 5, plays=100), activity_row(7, 1, plays=101)]
    store.online_store.write(pack_batch(view, _batch(stored)))
    incoming = [activity_row(m, 3, plays=m) for m in range(10)]
    written = store.online_store.write(pack_batch(view, _batch(incoming)))
    assert written == 9  # all but member 4, whose stored value is newer
    assert _read(store, view, list(range(10))) == [0, 1, 2, 3, 100, 5, 6, 7, 8, 9]
    repeated = [activity_row(m, 4, plays=10 + m) for m in (10, 11, 12)]
    repeated += [activity_row(13, 5, plays=23), activity_row(13, 4, plays=24)]
    store.online_store.write(pack_batch(view, _batch(repeated)))
    assert _read(store, view, [10, 11, 12, 13]) == [20, 21, 22, 23]


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis"])  # two writers on one Redis server
def test_concurrent_newer_writer_is_never_overwritten(repo_factory, backend) -> None:
    """A writer of newer values (a push) races a big batch of older ones (a job): every
    key ends with the newer value. The pusher goes from the last key back, so the job's
    first chunk is new (MSETNX) while later chunks meet the pushed keys."""
    import threading

    store = repo_factory(ttl_days=None)
    view = store.definitions().feature_view("activity")
    n = 5 * CHUNK
    older = pack_batch(view, _batch([activity_row(m, 1, plays=1) for m in range(n)]))
    newer = [
        pack_batch(view, _batch([activity_row(m, 2, plays=2) for m in range(hi - 50, hi)]))
        for hi in range(n, 0, -50)
    ]
    started = threading.Event()

    def push() -> None:
        for i, batch in enumerate(newer):
            store.online_store.write(batch)
            if i == 0:
                started.set()

    pusher = threading.Thread(target=push)
    pusher.start()
    started.wait(10)
    store.online_store.write(older)
    pusher.join()
    assert set(_read(store, view, list(range(n)))) == {2}

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


def test_batch_over_several_chunks(repo_factory) -> None:
    """Keys of varying length and values of varying width (a string feature) across chunk
    boundaries; every other entity already holds a newer value."""
    store = repo_factory()
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

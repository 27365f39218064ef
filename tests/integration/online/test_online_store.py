"""The OnlineStore contract on each store: never older, delete a view, teardown, versions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from online_support import ACTIVITY_SCHEMA, activity_row, make_store, ts

from featurestore import FeatureView, Field
from featurestore.errors import OnlineStoreUnavailableError
from featurestore.online._codec import ViewCodec
from featurestore.online._pack import codec_for, pack_batch
from featurestore.online.base import ReadRequest
from featurestore.types import Float64, String


def _batch(rows: list[dict]) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=ACTIVITY_SCHEMA)
    return table.rename_columns(
        ["member_id", "plays", "score", "genre", "__event_ts", "__created_ts"]
    )


def _plays(store, view, members: list[int]) -> list[int | None]:
    keys = pa.array([str(m).encode() for m in members], pa.binary())
    raw = store.online_store.read([ReadRequest(view, keys)])[0]
    return codec_for(view).decode(raw, ["plays"]).columns["plays"].to_pylist()


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ((1, 1), (2, 1), "second"),  # a later event time replaces
        ((2, 1), (1, 5), "first"),  # an earlier event time never replaces, whatever created
        ((1, 1), (1, 2), "second"),  # same event time: the later created time wins
        ((1, 2), (1, 1), "first"),  # same event time: an earlier created time loses
        ((1, 1), (1, 1), "second"),  # a full tie goes to the incoming (later) row
        ((1, None), (1, 0), "second"),  # a null created time is the smallest
        ((1, 0), (1, None), "first"),  # ... in both directions
    ],
)
def test_never_older(repo_factory, first, second, winner) -> None:
    store = repo_factory()
    view = store.definitions().feature_view("activity")

    def row(pair: tuple[int, int | None], plays: int) -> dict:
        created = None if pair[1] is None else ts(pair[1])
        return activity_row(1, pair[0], plays=plays, created=created)

    store.online_store.write(pack_batch(view, _batch([row(first, 10)])))
    store.online_store.write(pack_batch(view, _batch([row(second, 20)])))
    assert _plays(store, view, [1]) == [20 if winner == "second" else 10]


def test_batch_mixes_newer_and_older(repo_factory) -> None:
    store = repo_factory()
    view = store.definitions().feature_view("activity")
    online = store.online_store
    online.write(pack_batch(view, _batch([activity_row(m, 5, plays=m) for m in range(6)])))
    incoming = [activity_row(m, 5 + (1 if m % 2 else -1), plays=100 + m) for m in range(10)]
    online.write(pack_batch(view, _batch(incoming)))
    assert _plays(store, view, list(range(10))) == [0, 101, 2, 103, 4, 105, 106, 107, 108, 109]


def test_delete_view_and_teardown(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(m, 1, plays=m) for m in range(1, 4)])
    other = repo_factory(
        name="other", project=f"{store.project}_2", activity=[activity_row(1, 1, plays=9)]
    )
    other.materialize(ts(0), ts(2))
    store.materialize(ts(0), ts(2))
    store.online_store.write(
        pack_batch(store.definitions().feature_view("activity"), _batch([activity_row(1, 1)]))
    )
    profile = store.definitions().feature_view("profile")
    store.online_store.write(
        pack_batch(
            profile,
            pa.table(
                {
                    "member_id": [1],
                    "country": ["NL"],
                    "age": pa.array([3], pa.int32()),
                    "tags": [["x"]],
                    "active": [True],
                    "__event_ts": pa.array([ts(1)], pa.timestamp("us", "UTC")),
                    "__created_ts": pa.array([None], pa.timestamp("us", "UTC")),
                }
            ),
        )
    )
    assert store.online_store.delete_view("activity") == 3
    resp = store.get_online_features(["activity:plays", "profile:country"], {"member_id": [1]})
    assert resp.to_dict() == {"member_id": [1], "plays": [None], "country": ["NL"]}
    store.teardown()
    resp = store.get_online_features(["profile:country"], {"member_id": [1]})
    assert resp.to_dict()["country"] == [None]
    # another project (whose name starts with this one's) keeps its values
    assert other.get_online_features(["activity:plays"], [{"member_id": 1}]).to_dict()["plays"] == [
        9
    ]


def test_schema_change_writes_under_a_new_version(repo_factory) -> None:
    """A breaking change (a feature's type) gets new keys; old bytes are never decoded."""
    store = repo_factory(activity=[activity_row(1, 1, plays=5)])
    store.materialize(ts(0), ts(2))
    old = store.definitions().feature_view("activity")
    changed = FeatureView(
        name="activity",
        entities=old.entities,
        ttl=old.ttl,
        schema=[Field("plays", String), Field("score", Float64), Field("genre", String)],
        source=old.source,
    )
    assert ViewCodec(changed).schema_version != ViewCodec(old).schema_version
    keys = pa.array([b"1"], pa.binary())
    assert store.online_store.read([ReadRequest(changed, keys)])[0] == [None]
    described = FeatureView(
        name="activity",
        entities=old.entities,
        ttl=timedelta(days=3),
        schema=old.schema,
        source=old.source,
        owner="someone-else",
        description="metadata only",
    )
    assert ViewCodec(described).schema_version == ViewCodec(old).schema_version


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis"])  # inspects Redis key expiry
def test_redis_keys_expire_after_ttl_and_margin(repo_factory, backend) -> None:
    import redis

    from featurestore.online.redis import EXPIRE_MARGIN

    now = datetime.now(UTC)
    rows = [
        activity_row(1, 0, event_timestamp=now - timedelta(hours=2)),
        activity_row(2, 0, event_timestamp=now - timedelta(days=2)),  # past ttl + margin
    ]
    store = repo_factory(ttl_days=1, activity=rows)
    [result] = store.materialize(now - timedelta(days=5), now, views=["activity"])
    assert result.ok
    client = redis.Redis.from_url(store.config.online_store.url)  # type: ignore[union-attr]
    keys = sorted(client.scan_iter(match=f"fs:{store.project}:activity:*"))
    assert [k.rsplit(b":", 1)[1] for k in keys] == [b"1"]  # the expired row is not stored
    expected = rows[0]["event_timestamp"] + timedelta(days=1) + EXPIRE_MARGIN
    remaining = client.pttl(keys[0]) / 1000
    assert abs(remaining - (expected - datetime.now(UTC)).total_seconds()) < 60
    client.close()


def test_store_without_entities_and_defaults(make_repo, backend, request, unique_project) -> None:
    """A view with no entities keeps one value for everyone."""
    from online_support import backend_url, online_config, write_parquet

    repo = make_repo(
        {
            "defs.py": """
            from featurestore import FeatureView, Field, ParquetSource
            from featurestore.types import Int64
            globals_ = FeatureView(name="globals_", schema=[Field("total", Int64)],
                                   source=ParquetSource(path="data/g.parquet"))
            """
        },
        config=f"project: {unique_project}\n"
        + online_config(backend, backend_url(request, backend)),
    )
    write_parquet(
        repo / "data/g.parquet",
        [{"total": 1, "event_timestamp": ts(1)}, {"total": 2, "event_timestamp": ts(2)}],
    )
    from featurestore import FeatureStore

    store = FeatureStore(repo)
    store.apply()
    try:
        store.materialize(ts(0), ts(3))
        assert store.get_online_features(["globals_:total"], [{}, {}]).to_dict() == {
            "total": [2, 2]
        }
    finally:
        store.teardown()


@pytest.mark.redis
def test_redis_reads_survive_a_restart(own_redis, tmp_path) -> None:
    """A pooled connection closed by a restarted server is reopened, not reported; a
    server that is down is OnlineStoreUnavailableError, and reads recover when it is back."""
    store = make_store(tmp_path / "repo", "redis", own_redis.url, "restart")
    view = store.definitions().feature_view("activity")
    store.online_store.write(pack_batch(view, _batch([activity_row(1, 5, plays=7)])))
    assert _plays(store, view, [1]) == [7]
    assert store.get_online_features(["activity:plays"], {"member_id": [1]}).to_dict() == {
        "member_id": [1],
        "plays": [7],
    }

    own_redis.stop()
    own_redis.start()  # empty: nothing is kept on disk
    assert _plays(store, view, [1]) == [None]  # the stale connection was reopened

    own_redis.stop()
    with pytest.raises(OnlineStoreUnavailableError, match=f"127.0.0.1:{own_redis.port}"):
        store.get_online_features(["activity:plays"], {"member_id": [1, 2]})
    own_redis.start()
    store.online_store.write(pack_batch(view, _batch([activity_row(2, 5, plays=9)])))
    assert _plays(store, view, [1, 2]) == [None, 9]


@pytest.mark.redis
def test_a_read_that_timed_out_leaves_no_reply_for_the_next(own_redis) -> None:
    """The late reply of a read that gave up must not answer the next read on the same
    connection: a failed read's connection is closed, never reused."""
    import redis

    from featurestore.online.redis import RedisOnlineStore
    from featurestore.repo.config import RedisOnlineConfig

    client = redis.Redis.from_url(own_redis.url)
    client.set(b"a", b"first")
    client.set(b"b", b"second")
    store = RedisOnlineStore(RedisOnlineConfig(type="redis", url=own_redis.url, timeout=0.2), "p")
    reads = store._reads
    assert reads is not None
    assert reads.command("GET", b"a") == b"first"  # one idle connection now
    client.execute_command("CLIENT", "PAUSE", 600, "ALL")  # the server answers in 0.6 s
    with pytest.raises(redis.TimeoutError):
        reads.command("GET", b"a")
    time.sleep(0.7)
    assert reads.command("GET", b"b") == b"second"
    store.close()

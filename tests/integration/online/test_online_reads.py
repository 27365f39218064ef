"""Online reads on each store: statuses, ttl, on-demand views, request shapes, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow as pa
import pytest
from online_support import activity_row, ts

from featurestore import FeatureStatus, RequestError
from featurestore.errors import NotFoundError

P, N, NF, EX = (
    FeatureStatus.PRESENT,
    FeatureStatus.NULL,
    FeatureStatus.NOT_FOUND,
    FeatureStatus.EXPIRED,
)


def _now_rows() -> list[dict]:
    now = datetime.now(UTC)
    return [
        activity_row(1, 0, plays=5, event_timestamp=now - timedelta(hours=1)),
        activity_row(2, 0, plays=None, event_timestamp=now - timedelta(hours=2)),
        # past ttl, but within Redis' expiry margin, so still stored
        activity_row(3, 0, plays=7, event_timestamp=now - timedelta(days=1, minutes=10)),
    ]


def test_statuses_present_null_not_found_expired(repo_factory) -> None:
    store = repo_factory(ttl_days=1, activity=_now_rows())
    store.materialize(datetime.now(UTC) - timedelta(days=10), datetime.now(UTC))
    resp = store.get_online_features(
        ["activity:plays", "activity:genre"], [{"member_id": m} for m in (1, 2, 3, 4)]
    )
    out = resp.to_dict()
    assert out["member_id"] == [1, 2, 3, 4]
    assert out["plays"] == [5, None, None, None]  # expired values come back null
    assert out["genre"] == ["g5", "gNone", None, None]
    assert resp.statuses()["plays"] == [P, N, EX, NF]
    assert resp.statuses()["genre"] == [P, P, EX, NF]
    stamps = resp.to_arrow(with_status=True).column("plays__event_timestamp").to_pylist()
    assert stamps[3] is None and stamps[2] is not None  # expired keeps its event time


def test_ttl_boundary_is_inclusive(repo_factory) -> None:
    """A value exactly ttl old is fresh at materialization; a minute older is expired."""
    now = datetime.now(UTC)
    rows = [
        activity_row(1, 0, plays=1, event_timestamp=now - timedelta(days=1) + timedelta(minutes=5)),
        activity_row(2, 0, plays=2, event_timestamp=now - timedelta(days=1, minutes=1)),
    ]
    store = repo_factory(ttl_days=1, activity=rows)
    store.materialize(now - timedelta(days=5), now)
    resp = store.get_online_features(["activity:plays"], {"member_id": [1, 2]})
    assert resp.statuses()["plays"] == [P, EX]


def test_many_views_multi_key_and_arrays(repo_factory) -> None:
    store = repo_factory(
        activity=[activity_row(1, 1, plays=3)],
        profile=[
            {
                "member_id": 1,
                "country": "NL",
                "age": 40,
                "tags": ["a", None, "c"],
                "active": True,
                "event_timestamp": ts(1),
            },
            {
                "member_id": 2,
                "country": None,
                "age": None,
                "tags": None,
                "active": False,
                "event_timestamp": ts(1),
            },
        ],
        pair=[
            {"member_id": 1, "title_id": "t:1", "affinity": 0.5, "event_timestamp": ts(1)},
            {"member_id": 1, "title_id": "t", "affinity": 0.25, "event_timestamp": ts(1)},
        ],
    )
    store.materialize(ts(-1), ts(2))
    resp = store.get_online_features(
        [
            "profile:country",
            "profile:tags",
            "profile:active",
            "profile:age",
            "pair:affinity",
            "activity:plays",
        ],
        [
            {"member_id": 1, "title_id": "t:1"},
            {"member_id": 2, "title_id": "t"},
            {"member_id": 1, "title_id": "t"},
        ],
    )
    out = resp.to_dict()
    assert out["country"] == ["NL", None, "NL"]
    assert out["tags"] == [["a", None, "c"], None, ["a", None, "c"]]
    assert out["active"] == [True, False, True]
    assert out["age"] == [40, None, 40]
    assert out["affinity"] == [0.5, None, 0.25]  # (1, "t:1") and (1, "t") stay distinct keys
    assert out["plays"] == [3, None, 3]
    assert resp.to_arrow().schema.field("age").type == pa.int32()
    assert resp.statuses()["affinity"] == [P, NF, P]


def test_on_demand_view_and_service(repo_factory) -> None:
    store = repo_factory(
        activity=[activity_row(1, 1, plays=4)],
        profile=[
            {
                "member_id": 1,
                "country": "NL",
                "age": 1,
                "tags": [],
                "active": True,
                "event_timestamp": ts(1),
            }
        ],
    )
    store.materialize(ts(0), ts(2))
    resp = store.get_online_features("svc", {"member_id": [1, 9], "boost": [10.0, 2]})
    out = resp.to_dict()
    assert out["plays"] == [4, None]
    assert out["country"] == ["NL", None]
    assert out["boosted"] == [20.0, None]  # score 2.0 * boost 10; no activity row for 9
    assert resp.statuses()["boosted"] == [P, N]
    frame = store.get_online_features(
        ["boosted:boosted"], [{"member_id": 1, "boost": 1.5}], full_feature_names=True
    ).to_polars()
    assert frame.get_column("boosted__boosted").to_list() == [3.0]
    assert isinstance(frame, pl.DataFrame)


def test_request_shapes_agree(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(1, 1, plays=2), activity_row(2, 1, plays=3)])
    store.materialize(ts(0), ts(2))
    refs = ["activity:plays"]
    shapes = [
        [{"member_id": 2}, {"member_id": 1}, {"member_id": 2}],  # list of dicts, duplicates
        {"member_id": [2, 1, 2]},  # dict of columns
        pa.table({"member_id": pa.array([2, 1, 2], pa.int32())}),  # Arrow, narrower int
        pl.DataFrame({"member_id": [2, 1, 2]}),  # polars
    ]
    for rows in shapes:
        assert store.get_online_features(refs, rows).to_dict()["plays"] == [3, 2, 3]
    assert store.get_online_features(refs, {"member_id": []}).to_dict()["plays"] == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"memberid": 1}], "member_id"),  # missing key column is named
        ([{"member_id": "1"}], "Int64"),  # a string for an integer key
        ([{"member_id": 1.5}], "Int64"),  # a float for an integer key
        ([{"member_id": 1}, {"member_id": None}], "row 1"),  # a null key names its row
        ({"member_id": [1, 2], "x": [1]}, "different lengths"),  # ragged columns
        ([{"member_id": 2**70}], "member_id"),  # out of Int64's range
    ],
)
def test_bad_entity_rows(repo_factory, rows, message) -> None:
    store = repo_factory()
    with pytest.raises(RequestError, match=message):
        store.get_online_features(["activity:plays"], rows)


def test_missing_request_field_and_name_collisions(repo_factory) -> None:
    store = repo_factory()
    with pytest.raises(RequestError, match="boost"):
        store.get_online_features(["boosted:boosted"], [{"member_id": 1}])
    with pytest.raises(NotFoundError, match="nope"):
        store.get_online_features(["activity:nope"], [{"member_id": 1}])


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis"])  # counts round trips to the Redis server
def test_one_round_trip_for_many_views(repo_factory, backend, monkeypatch) -> None:
    """Reading 3 views x 100 entities sends one request to Redis (counted at the socket
    write of the real client, since other tests share the server's command statistics)."""
    from redis.connection import AbstractConnection

    store = repo_factory(activity=[activity_row(m, 1, plays=m) for m in range(100)])
    store.materialize(ts(0), ts(2))
    rows = [{"member_id": m, "title_id": "t"} for m in range(100)]
    refs = ["activity:plays", "profile:country", "pair:affinity"]
    store.get_online_features(refs, rows)  # warm: connection set up
    sent: list[int] = []
    real = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    resp = store.get_online_features(refs, rows)
    assert len(sent) == 1
    assert resp.to_dict()["plays"] == list(range(100))

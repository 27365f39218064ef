"""Every edge of the point-in-time rule, with hand-written expectations."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest
from offline_support import Offline, at, entity_rows

from featurestore.definitions import Entity
from featurestore.types import String

H = timedelta(hours=1)
US = timedelta(microseconds=1)


def plays(offline: Offline, view, entity_df, **options) -> list:
    return offline.frame([view], entity_df, [f"{view.name}:plays"], **options)["plays"].to_list()


@pytest.mark.parametrize(
    ("feature_time", "expected"),
    [
        (at(5), 1),  # equal to the entity time: upper bound is inclusive
        (at(5, us=1), None),  # one microsecond after: not yet known
        (at(5, us=-1), 1),  # one microsecond before
    ],
)
def test_upper_bound_is_inclusive(offline: Offline, feature_time, expected) -> None:
    path = offline.write(
        "f.parquet", {"member_id": [7], "event_timestamp": [feature_time], "plays": [1]}
    )
    view = offline.view("act", path)
    assert plays(offline, view, entity_rows([7], [at(5)])) == [expected]


@pytest.mark.parametrize(
    ("feature_time", "ttl", "expected"),
    [
        (at(4), H, 1),  # exactly t - ttl: lower bound is inclusive
        (at(4, us=-1), H, None),  # one microsecond older than t - ttl: expired
        (at(-1000), None, 1),  # ttl None: no lower bound
        (at(-1000), timedelta(0), 1),  # ttl 0: no lower bound either
    ],
)
def test_ttl_lower_bound(offline: Offline, feature_time, ttl, expected) -> None:
    path = offline.write(
        "f.parquet", {"member_id": [7], "event_timestamp": [feature_time], "plays": [1]}
    )
    view = offline.view("act", path, ttl=ttl)
    assert plays(offline, view, entity_rows([7], [at(5)])) == [expected]


def test_expired_latest_row_does_not_fall_back_to_an_older_row(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {"member_id": [7, 7], "event_timestamp": [at(0), at(1)], "plays": [1, 2]},
    )
    view = offline.view("act", path, ttl=H)
    # at 3h the latest row (1h) is 2h old: expired; the older one is too
    assert plays(offline, view, entity_rows([7, 7], [at(3), at(1.5)])) == [None, 2]


def test_greatest_event_time_wins_over_later_created(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7, 7],
            "event_timestamp": [at(2), at(1)],
            "created": [at(2), at(9)],  # the older event was written later
            "plays": [2, 1],
        },
    )
    view = offline.view("act", path, created="created")
    assert plays(offline, view, entity_rows([7], [at(3)])) == [2]


def test_tie_on_event_time_greatest_created_wins(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7, 7, 7],
            "event_timestamp": [at(1)] * 3,
            "created": [at(1), at(3), at(2)],
            "plays": [1, 3, 2],
        },
    )
    view = offline.view("act", path, created="created")
    assert plays(offline, view, entity_rows([7], [at(1)])) == [3]


def test_null_created_is_lowest(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7, 7],
            "event_timestamp": [at(1), at(1)],
            "created": [at(1), None],
            "plays": [1, 2],
        },
    )
    view = offline.view("act", path, created="created")
    assert plays(offline, view, entity_rows([7], [at(2)])) == [1]


@pytest.mark.parametrize(
    "created",
    [
        None,  # no created column: the later row in the file wins
        "created",  # equal created timestamps: same
    ],
)
def test_full_tie_later_row_in_file_wins(offline: Offline, created) -> None:
    data = {"member_id": [7, 7, 7], "event_timestamp": [at(1)] * 3, "plays": [1, 2, 3]}
    if created:
        data["created"] = [at(1)] * 3
    path = offline.write("f.parquet", data)
    view = offline.view("act", path, created=created)
    assert plays(offline, view, entity_rows([7], [at(1)])) == [3]


def test_full_tie_across_files_later_path_wins(offline: Offline) -> None:
    # b.parquet sorts after a.parquet, so its row wins although it is its file's first row
    offline.write(
        "src/a.parquet", {"member_id": [7, 7], "event_timestamp": [at(1), at(1)], "plays": [1, 2]}
    )
    offline.write(
        "src/b.parquet", {"member_id": [7, 8], "event_timestamp": [at(1), at(1)], "plays": [3, 4]}
    )
    view = offline.view("act", str(offline.root / "src"))
    assert plays(offline, view, entity_rows([7, 8], [at(1), at(1)])) == [3, 4]


def test_every_entity_row_once_in_order_with_duplicates(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {"member_id": [1, 2, 1], "event_timestamp": [at(1), at(1), at(3)], "plays": [10, 20, 30]},
    )
    view = offline.view("act", path)
    entities = entity_rows(
        [2, 1, 1, 1, 9, 2], [at(5), at(2), at(5), at(2), at(5), at(5)], label=[0, 1, 2, 3, 4, 5]
    )
    frame = offline.frame([view], entities, ["act:plays"])
    assert frame["label"].to_list() == [0, 1, 2, 3, 4, 5]
    assert frame["plays"].to_list() == [20, 10, 30, 10, None, 20]


def test_nulls_never_match(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7, None, 7],
            "event_timestamp": [at(1), at(1), None],  # a row without time is never a candidate
            "plays": [1, 2, 3],
        },
    )
    view = offline.view("act", path)
    entities = entity_rows([7, None, 7], [at(2), at(2), None])
    assert plays(offline, view, entities) == [1, None, None]


def test_null_value_in_winning_row_is_null_not_an_older_value(offline: Offline) -> None:
    path = offline.write(
        "f.parquet", {"member_id": [7, 7], "event_timestamp": [at(1), at(2)], "plays": [1, None]}
    )
    view = offline.view("act", path)
    assert plays(offline, view, entity_rows([7], [at(3)])) == [None]


def test_extra_columns_pass_through_untouched(offline: Offline) -> None:
    path = offline.write("f.parquet", {"member_id": [7], "event_timestamp": [at(1)], "plays": [1]})
    view = offline.view("act", path)
    entities = pa.table(
        {
            "label": pa.array([1.5, None], pa.float32()),
            "event_timestamp": pa.array([at(2), at(0)], pa.timestamp("ns", "Europe/Paris")),
            "member_id": pa.array([7, 7], pa.int32()),
            "note": pa.array(["a", "b"]).dictionary_encode(),
        }
    )
    table = offline.job([view], entities, ["act:plays"]).to_arrow()
    assert table.select(entities.column_names).equals(entities)
    assert table.column_names == [*entities.column_names, "plays"]


def test_zoned_entity_times_are_converted_to_utc(offline: Offline) -> None:
    path = offline.write("f.parquet", {"member_id": [7], "event_timestamp": [at(10)], "plays": [1]})
    view = offline.view("act", path)
    # 10:30 in Tokyo is 01:30 UTC (before the row); 19:30 in Tokyo is 10:30 UTC (after it)
    times = pa.array([at(10.5), at(19.5)], pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
    tokyo = pa.array([at(1.5), at(10.5)], pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
    for column in (tokyo.cast(pa.timestamp("us", "Asia/Tokyo")), times):
        entities = pa.table({"member_id": [7, 7], "event_timestamp": column})
        expected = [None, 1] if column is not times else [1, 1]
        assert plays(offline, view, entities) == expected


def test_zoned_source_times(offline: Offline) -> None:
    zoned = pa.array([at(10)], pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7],
            "event_timestamp": zoned.cast(pa.timestamp("us", "America/New_York")),
            "plays": [1],
        },
    )
    view = offline.view("act", path)
    assert plays(offline, view, entity_rows([7, 7], [at(9), at(10)])) == [None, 1]


def test_nanoseconds_are_compared_exactly(offline: Offline) -> None:
    base = pa.scalar(at(1), pa.timestamp("ns")).value
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7],
            "event_timestamp": pa.array([base + 500], pa.timestamp("ns")),
            "plays": [1],
        },
    )
    view = offline.view("act", path)
    entities = pa.table(
        {
            "member_id": [7, 7, 7],
            "event_timestamp": pa.array([base + 499, base + 500, base + 1000], pa.timestamp("ns")),
        }
    )
    assert plays(offline, view, entities) == [None, 1, 1]


def test_several_join_keys(offline: Offline) -> None:
    profile = Entity(name="profile", join_keys=["account", "profile"])
    path = offline.write(
        "f.parquet",
        {
            "account": [1, 1, 2],
            "profile": [1, 2, 1],
            "event_timestamp": [at(1)] * 3,
            "plays": [11, 12, 21],
        },
    )
    view = offline.view("by_profile", path, entities=[profile])
    entities = pa.table(
        {
            "account": [1, 1, 2, 2],
            "profile": [2, 1, 1, 2],
            "event_timestamp": pa.array([at(2)] * 4, pa.timestamp("us")),
        }
    )
    frame = offline.frame([view], entities, ["by_profile:plays"])
    assert frame["plays"].to_list() == [12, 11, 21, None]


def test_views_with_different_entities_and_one_without(offline: Offline) -> None:
    title = Entity(name="title", join_keys=["title_id"], value_type=String)
    member_path = offline.write(
        "m.parquet", {"member_id": [1, 2], "event_timestamp": [at(1), at(1)], "plays": [10, 20]}
    )
    title_path = offline.write(
        "t.parquet",
        {"title_id": ["a", "b"], "event_timestamp": [at(1), at(3)], "views_1h": [5, 6]},
    )
    global_path = offline.write(
        "g.parquet", {"event_timestamp": [at(0), at(2)], "active": [100, 200]}
    )
    views = [
        offline.view("member_stats", member_path),
        offline.view("title_stats", title_path, ["views_1h"], entities=[title]),
        offline.view("platform", global_path, ["active"], entities=[]),
    ]
    entities = pa.table(
        {
            "member_id": [1, 2, 1],
            "title_id": ["b", "a", "b"],
            "event_timestamp": pa.array([at(2), at(2), at(4)], pa.timestamp("us")),
        }
    )
    frame = offline.frame(
        views, entities, ["member_stats:plays", "title_stats:views_1h", "platform:active"]
    )
    assert frame.columns == [
        "member_id",
        "title_id",
        "event_timestamp",
        "plays",
        "views_1h",
        "active",
    ]
    assert frame["plays"].to_list() == [10, 20, 10]
    assert frame["views_1h"].to_list() == [None, 5, 6]
    assert frame["active"].to_list() == [200, 200, 200]


def test_views_sharing_a_source_keep_their_own_ttl(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {"member_id": [7], "event_timestamp": [at(1)], "plays": [1], "minutes": [30]},
    )
    short = offline.view("short", path, ["plays"], ttl=H)
    long = offline.view("long", path, ["minutes"], ttl=10 * H)
    frame = offline.frame([short, long], entity_rows([7], [at(5)]), ["short:plays", "long:minutes"])
    assert frame.row(0) == (7, at(5), None, 30)


def test_full_feature_names_and_collisions(offline: Offline) -> None:
    path = offline.write("f.parquet", {"member_id": [7], "event_timestamp": [at(1)], "plays": [1]})
    a, b = offline.view("a", path), offline.view("b", path)
    entities = entity_rows([7], [at(2)])
    frame = offline.frame([a, b], entities, ["a:plays", "b:plays"], full_feature_names=True)
    assert frame.columns[-2:] == ["a__plays", "b__plays"]
    with pytest.raises(ValueError, match=r"'plays' is in both view 'a' and view 'b'"):
        offline.job([a, b], entities, ["a:plays", "b:plays"])


def test_filter_by_created_timestamp(offline: Offline) -> None:
    path = offline.write(
        "f.parquet",
        {
            "member_id": [7, 7, 7],
            "event_timestamp": [at(1), at(2), at(2)],
            "created": [at(1), at(2), at(3.5)],  # the last row was only written at 3.5h
            "plays": [1, 2, 3],
        },
    )
    view = offline.view("act", path, created="created", ttl=2 * H)
    entities = entity_rows([7, 7, 7, 7], [at(3), at(3.5), at(1.5), at(4.5)])
    assert plays(offline, view, entities) == [3, 3, 1, None]
    filtered = plays(offline, view, entities, filter_by_created_timestamp=True)
    # 3h: row 3 not yet created -> row 2; 3.5h: row 3 (inclusive); 1.5h: row 1;
    # 4.5h: the latest row (2h) is expired (ttl 2h)
    assert filtered == [2, 3, 1, None]


def test_field_mapping_renames_source_columns(offline: Offline) -> None:
    path = offline.write("f.parquet", {"mid": [7], "ts": [at(1)], "n_plays": [4]})
    view = offline.view(
        "act", path, timestamp_field="ts", field_mapping={"n_plays": "plays", "mid": "member_id"}
    )
    assert plays(offline, view, entity_rows([7], [at(2)])) == [4]


def test_empty_entity_rows(offline: Offline) -> None:
    path = offline.write("f.parquet", {"member_id": [7], "event_timestamp": [at(1)], "plays": [1]})
    view = offline.view("act", path)
    frame = offline.frame([view], entity_rows([], []), ["act:plays"])
    assert frame.height == 0
    assert frame.columns == ["member_id", "event_timestamp", "plays"]

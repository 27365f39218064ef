"""Bad requests and bad data: each a clear error naming the column or file."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
from offline_support import Offline, at, entity_rows

from featurestore.errors import NotFoundError, RequestError, SourceDataError
from featurestore.types import String


@pytest.fixture
def view(offline: Offline):
    path = offline.write("f.parquet", {"member_id": [7], "event_timestamp": [at(1)], "plays": [1]})
    return offline.view("act", path)


@pytest.mark.parametrize(
    ("entity_df", "pattern"),
    [
        # no join key column
        (
            pl.DataFrame({"event_timestamp": [at(1)]}),
            r"no column 'member_id', a join key of view 'act'",
        ),
        # no timestamp column at all
        (
            pl.DataFrame({"member_id": [7]}),
            r"needs the time of each row.*found no timestamp column",
        ),
        # two timestamp columns and none named event_timestamp: ambiguous
        (
            pl.DataFrame({"member_id": [7], "a": [at(1)], "b": [at(2)]}),
            r"found timestamp columns \['a', 'b'\]",
        ),
        # event_timestamp of the wrong type
        (
            pl.DataFrame({"member_id": [7], "event_timestamp": ["2024-01-01"]}),
            r"'event_timestamp' is \w+; expected a timestamp",
        ),
        # join key of the wrong type
        (
            pl.DataFrame({"member_id": ["7"], "event_timestamp": [at(1)]}),
            r"join key column 'member_id' \(view 'act'\) is \w+; expected Int64 values",
        ),
    ],
)
def test_bad_entity_rows(offline: Offline, view, entity_df, pattern) -> None:
    with pytest.raises(RequestError, match=pattern):
        offline.job([view], entity_df, ["act:plays"])


def test_single_timestamp_column_with_another_name_is_used(offline: Offline, view) -> None:
    entities = pl.DataFrame({"member_id": [7], "asof": [at(2)]})
    assert offline.frame([view], entities, ["act:plays"])["plays"].to_list() == [1]


@pytest.mark.parametrize(
    ("refs", "pattern"),
    [
        (["nope:plays"], r"unknown feature view 'nope'"),  # unknown view
        (["act:nope"], r"unknown feature 'act:nope'"),  # unknown feature
        (["act"], r"not of the form 'view:feature'"),  # malformed reference
    ],
)
def test_unknown_features(offline: Offline, view, refs, pattern) -> None:
    with pytest.raises(NotFoundError, match=pattern):
        offline.job([view], entity_rows([7], [at(1)]), refs)


def test_entity_input_of_unknown_kind(offline: Offline, view) -> None:
    with pytest.raises(RequestError, match=r"entity_df is a dict; expected a pandas"):
        offline.job([view], {"member_id": [7]}, ["act:plays"])


def test_entity_column_clashing_with_a_feature(offline: Offline, view) -> None:
    entities = entity_rows([7], [at(1)], plays=[0])
    with pytest.raises(RequestError, match=r"already has a column 'plays'"):
        offline.job([view], entities, ["act:plays"])


def test_missing_source_file(offline: Offline) -> None:
    view = offline.view("act", str(offline.root / "missing.parquet"))
    with pytest.raises(SourceDataError, match=r"view 'act'.*missing\.parquet.*does not exist"):
        offline.job([view], entity_rows([7], [at(1)]), ["act:plays"])


def test_corrupt_source_file(offline: Offline) -> None:
    bad = offline.root / "bad.parquet"
    bad.write_bytes(b"this is not parquet at all")
    view = offline.view("act", str(bad))
    with pytest.raises(SourceDataError, match=r"view 'act'.*bad\.parquet"):
        offline.job([view], entity_rows([7], [at(1)]), ["act:plays"]).to_arrow()


def test_corrupt_file_among_good_ones(offline: Offline) -> None:
    offline.write("src/a.parquet", {"member_id": [7], "event_timestamp": [at(1)], "plays": [1]})
    good = (offline.root / "src" / "a.parquet").read_bytes()
    (offline.root / "src" / "b.parquet").write_bytes(good[: len(good) // 2])  # truncated
    view = offline.view("act", str(offline.root / "src"))
    with pytest.raises(SourceDataError, match=r"b\.parquet"):
        offline.job([view], entity_rows([7], [at(1)]), ["act:plays"]).to_arrow()


def test_empty_source_directory(offline: Offline) -> None:
    (offline.root / "empty").mkdir()
    view = offline.view("act", str(offline.root / "empty"))
    with pytest.raises(SourceDataError, match=r"has no Parquet files"):
        offline.job([view], entity_rows([7], [at(1)]), ["act:plays"])


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        # feature column missing from the data
        ({"member_id": [7], "event_timestamp": [at(1)]}, r"has no column 'plays'"),
        # feature of a type that cannot be read as declared (string for Int64)
        (
            {"member_id": [7], "event_timestamp": [at(1)], "plays": ["1"]},
            r"column 'plays'.*declares Int64",
        ),
        # join key column missing from the data
        ({"event_timestamp": [at(1)], "plays": [1]}, r"has no column 'member_id'"),
        # no timestamp column in the data
        ({"member_id": [7], "plays": [1]}, r"no timestamp column 'event_timestamp'"),
        # timestamp column that is not a timestamp
        (
            {"member_id": [7], "event_timestamp": ["x"], "plays": [1]},
            r"'event_timestamp'.*expected a timestamp",
        ),
    ],
)
def test_source_not_matching_its_view(offline: Offline, data, pattern) -> None:
    view = offline.view("act", offline.write("f.parquet", data))
    with pytest.raises(SourceDataError, match=pattern):
        offline.job([view], entity_rows([7], [at(1)]), ["act:plays"])


def test_source_key_of_the_wrong_type(offline: Offline) -> None:
    path = offline.write(
        "f.parquet", {"member_id": ["7"], "event_timestamp": [at(1)], "plays": [1]}
    )
    view = offline.view("act", path)
    with pytest.raises(SourceDataError, match=r"column 'member_id'.*declares Int64"):
        offline.job([view], entity_rows([7], [at(1)]), ["act:plays"])


def test_narrower_source_types_widen(offline: Offline) -> None:
    data = {
        "member_id": pa.array([7], pa.int32()),
        "event_timestamp": pa.array([at(1)], pa.timestamp("ms")),
        "plays": pa.array([1], pa.int32()),
    }
    view = offline.view("act", offline.write("f.parquet", data))
    table = offline.job([view], entity_rows([7], [at(2)]), ["act:plays"]).to_arrow()
    assert table.schema.field("plays").type == pa.int64()
    assert table.column("plays").to_pylist() == [1]


def test_string_features(offline: Offline) -> None:
    path = offline.write(
        "f.parquet", {"member_id": [7], "event_timestamp": [at(1)], "plan": ["gold"]}
    )
    view = offline.view("act", path, ["plan"], dtype=String)
    assert offline.frame([view], entity_rows([7], [at(1)]), ["act:plan"])["plan"].to_list() == [
        "gold"
    ]


def test_bad_entity_query(offline: Offline, view) -> None:
    with pytest.raises(RequestError, match=r"the entity query failed in DuckDB"):
        offline.job([view], "SELECT * FROM no_such_table", ["act:plays"])

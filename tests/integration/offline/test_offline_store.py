"""Training frames end to end: a repo on disk, ``store.apply()``, then the store's API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featurestore import FeatureStore

DEFINITIONS = """
from datetime import timedelta

import polars as pl

from featurestore import (
    Entity, FeatureService, FeatureView, Field, ParquetSource, RequestSource,
    on_demand_feature_view,
)
from featurestore.types import Float64, Int64, String

member = Entity(name="member", join_keys=["member_id"])
title = Entity(name="title", join_keys=["title_id"], value_type=String)

member_activity = FeatureView(
    name="member_activity",
    entities=[member],
    ttl=timedelta(hours=6),
    schema=[Field("plays", Int64)],
    source=ParquetSource(path="data/member", created_timestamp_column="created"),
)
title_stats = FeatureView(
    name="title_stats",
    entities=[title],
    schema=[Field("plays", Int64)],
    source=ParquetSource(path="data/title.parquet", field_mapping={"n": "plays"}),
)
device = RequestSource(name="device", schema=[Field("screen_inches", Float64)])


@on_demand_feature_view(
    sources=[member_activity, device], schema=[Field("plays_per_inch", Float64)]
)
def plays_per_inch(df: pl.DataFrame) -> pl.DataFrame:
    return df.select((pl.col("plays") / pl.col("screen_inches")).alias("plays_per_inch"))


ranking = FeatureService(
    name="ranking", features=[member_activity, title_stats, plays_per_inch]
)
"""


def at(hour: float) -> datetime:
    return datetime(2024, 3, 1) + (datetime(2024, 1, 1, 1) - datetime(2024, 1, 1)) * hour


@pytest.fixture
def store(make_repo: Callable[..., Path]) -> FeatureStore:
    repo = make_repo({"features.py": DEFINITIONS}, config="project: offline_e2e\n")
    (repo / "data" / "member" / "day=1").mkdir(parents=True)
    (repo / "data" / "member" / "day=2").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "member_id": [1, 2],
                "event_timestamp": [at(1), at(1)],
                "created": [at(1), at(1)],
                "plays": [10, 20],
            }
        ),
        repo / "data" / "member" / "day=1" / "part.parquet",
    )
    pq.write_table(
        pa.table(
            {"member_id": [1], "event_timestamp": [at(25)], "created": [at(25)], "plays": [11]}
        ),
        repo / "data" / "member" / "day=2" / "part.parquet",
    )
    pq.write_table(
        pa.table({"title_id": ["a", "b"], "event_timestamp": [at(0), at(30)], "n": [5, 6]}),
        repo / "data" / "title.parquet",
    )
    made = FeatureStore(repo)
    made.apply(message="first")
    return made


@pytest.fixture
def entity_df() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "member_id": [1, 2, 1],
            "title_id": ["a", "b", "b"],
            "event_timestamp": [at(2), at(2), at(26)],
            "screen_inches": [10.0, 20.0, 5.0],
            "label": [True, False, True],
        }
    )


def test_service_by_object_and_by_name(store: FeatureStore, entity_df: pl.DataFrame) -> None:
    service = store.definitions().feature_service("ranking")
    by_name = store.get_historical_features(entity_df, "ranking", full_feature_names=True)
    by_object = store.get_historical_features(entity_df, service, full_feature_names=True)
    frame = by_name.to_polars()
    assert frame.equals(by_object.to_polars())
    assert frame.columns == [
        *entity_df.columns,
        "member_activity__plays",
        "title_stats__plays",
        "plays_per_inch__plays_per_inch",
    ]
    assert frame["member_activity__plays"].to_list() == [10, 20, 11]
    assert frame["title_stats__plays"].to_list() == [5, None, None]
    assert frame["plays_per_inch__plays_per_inch"].to_list() == [1.0, 1.0, 2.2]


def test_feature_refs_and_pandas(store: FeatureStore, entity_df: pl.DataFrame) -> None:
    job = store.get_historical_features(entity_df.to_pandas(), ["title_stats:plays"])
    assert job.to_pandas()["plays"].tolist()[0] == 5


def test_collision_without_full_names(store: FeatureStore, entity_df: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="'plays' is in both view 'member_activity'"):
        store.get_historical_features(entity_df, ["member_activity:plays", "title_stats:plays"])

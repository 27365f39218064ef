"""A small feature repo on disk, on SQLite or a real Redis, for online and materialize tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featurestore import FeatureStore

DEFINITIONS = """
from datetime import timedelta

import polars as pl

from featurestore import (
    Entity, FeatureService, FeatureView, Field, ParquetSource, PushSource, RequestSource,
    on_demand_feature_view,
)
from featurestore.types import Array, Bool, Float32, Float64, Int32, Int64, String

member = Entity(name="member", join_keys=["member_id"])
title = Entity(name="title", join_keys=["title_id"], value_type=String)

activity = FeatureView(
    name="activity", entities=[member], ttl=timedelta(days=TTL_DAYS),
    schema=[Field("plays", Int64), Field("score", Float64), Field("genre", String)],
    source=PushSource(
        name="activity_push",
        batch_source=ParquetSource(path="data/activity", created_timestamp_column="created"),
    ),
)
profile = FeatureView(
    name="profile", entities=[member],
    schema=[Field("country", String), Field("age", Int32), Field("tags", Array(String)),
            Field("active", Bool)],
    source=ParquetSource(path="data/profile.parquet"),
)
pair = FeatureView(
    name="pair", entities=[member, title], schema=[Field("affinity", Float32)],
    source=ParquetSource(path="data/pair"),
)
device = RequestSource(name="device", schema=[Field("boost", Float64)])


@on_demand_feature_view(sources=[activity, device], schema=[Field("boosted", Float64)])
def boosted(df: pl.DataFrame) -> pl.DataFrame:
    return df.select((pl.col("score") * pl.col("boost")).alias("boosted"))


svc = FeatureService(name="svc", features=[activity[["plays"]], profile[["country"]], boosted])
"""

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ts(days: float = 0.0, base: datetime = T0) -> datetime:
    from datetime import timedelta

    return base + timedelta(days=days)


def write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


ACTIVITY_SCHEMA = pa.schema(
    [
        ("member_id", pa.int64()),
        ("plays", pa.int64()),
        ("score", pa.float64()),
        ("genre", pa.string()),
        ("event_timestamp", pa.timestamp("us", "UTC")),
        ("created", pa.timestamp("us", "UTC")),
    ]
)
PROFILE_SCHEMA = pa.schema(
    [
        ("member_id", pa.int64()),
        ("country", pa.string()),
        ("age", pa.int32()),
        ("tags", pa.list_(pa.string())),
        ("active", pa.bool_()),
        ("event_timestamp", pa.timestamp("us", "UTC")),
    ]
)
PAIR_SCHEMA = pa.schema(
    [
        ("member_id", pa.int64()),
        ("title_id", pa.string()),
        ("affinity", pa.float32()),
        ("event_timestamp", pa.timestamp("us", "UTC")),
    ]
)


def online_config(backend: str, redis_url: str | None) -> str:
    if backend == "redis":
        return f"online_store:\n  type: redis\n  url: {redis_url}\n"
    return "online_store:\n  type: sqlite\n  path: data/online.db\n"


def make_store(
    repo: Path,
    backend: str,
    redis_url: str | None,
    project: str,
    *,
    ttl_days: float | None = 3650,  # None: the activity view has no ttl
    activity: list[dict[str, Any]] | None = None,
    profile: list[dict[str, Any]] | None = None,
    pair: list[dict[str, Any]] | None = None,
) -> FeatureStore:
    """Write the repo and its data, apply it, and open it."""
    repo.mkdir(parents=True, exist_ok=True)
    config = f"project: {project}\n" + online_config(backend, redis_url)
    (repo / "featurestore.yaml").write_text(config)
    (repo / "definitions.py").write_text(
        textwrap.dedent(DEFINITIONS).replace(
            "timedelta(days=TTL_DAYS)",
            "None" if ttl_days is None else f"timedelta(days={ttl_days!r})",
        )
    )
    write_parquet(repo / "data/activity/part-0.parquet", activity or [], ACTIVITY_SCHEMA)
    write_parquet(repo / "data/profile.parquet", profile or [], PROFILE_SCHEMA)
    write_parquet(repo / "data/pair/part-0.parquet", pair or [], PAIR_SCHEMA)
    store = FeatureStore(repo)
    store.apply("test")
    return store


def activity_row(member: int, day: float, plays: int | None = 1, **extra: Any) -> dict[str, Any]:
    row = {
        "member_id": member,
        "plays": plays,
        "score": float(plays or 0) / 2,
        "genre": f"g{plays}",
        "event_timestamp": ts(day),
        "created": ts(day),
    }
    row.update(extra)
    return row


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),  # the embedded default
    pytest.param("redis", id="redis", marks=pytest.mark.redis),  # a real Redis server
]


def backend_url(request: pytest.FixtureRequest, backend: str) -> str | None:
    """The Redis URL for the redis backend (through the shared ``redis_url`` fixture)."""
    return request.getfixturevalue("redis_url") if backend == "redis" else None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each online store in turn."""
    return str(request.param)


@pytest.fixture
def repo_factory(
    request: pytest.FixtureRequest, backend: str, unique_project: str, tmp_path: Path
) -> Iterator[Callable[..., FeatureStore]]:
    """``factory(**data)`` builds a repo on ``backend``; its online values are removed after."""
    url = backend_url(request, backend)
    made: list[FeatureStore] = []

    def factory(name: str = "repo", project: str | None = None, **data: Any) -> FeatureStore:
        store = make_store(tmp_path / name, backend, url, project or unique_project, **data)
        made.append(store)
        return store

    yield factory
    for store in made:
        store.teardown()
        store.online_store.close()

"""A real feature repo, applied, with a push source to fill its online store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featurestore.serving.server import FeatureServer, ServeOptions
from featurestore.store import FeatureStore

REPO_FILES = {
    "drivers.py": '''
        import time
        from datetime import timedelta

        import polars as pl

        from featurestore import (
            Entity, FeatureService, FeatureView, Field, ParquetSource, PushSource,
            RequestSource, on_demand_feature_view,
        )
        from featurestore.types import Float64, Int64, String

        driver = Entity(name="driver", join_keys=["driver_id"])
        batch = ParquetSource(path="data/driver.parquet", timestamp_field="event_timestamp")
        stats = FeatureView(
            name="driver_stats", entities=[driver], ttl=timedelta(days=3650),
            schema=[Field("conv_rate", Float64), Field("trips", Int64), Field("city", String)],
            source=PushSource(name="driver_push", batch_source=batch),
        )
        pace = RequestSource(name="pace", schema=[Field("delay_s", Float64)])

        @on_demand_feature_view(sources=[stats, pace], schema=[Field("trips_x2", Int64)])
        def slow_double(df: pl.DataFrame) -> pl.DataFrame:
            """Doubles trips after sleeping delay_s seconds (to hold a call in flight)."""
            time.sleep(float(df["delay_s"].max() or 0))
            return df.select((pl.col("trips") * 2).alias("trips_x2"))

        ranker = FeatureService(name="ranker", features=[stats[["conv_rate", "trips"]]])
    ''',
}


def online_config(kind: str, redis_url: str | None, project: str) -> str:
    if kind == "redis":
        return f"project: {project}\nonline_store:\n  type: redis\n  url: {redis_url}\n"
    return f"project: {project}\n"


def apply_repo(repo: Path) -> FeatureStore:
    store = FeatureStore(repo)
    store.apply(plan=store.plan(check_data=False))
    return store


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def online_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def repo_store(
    online_kind: str, make_repo: Callable[..., Path], unique_project: str, request: Any
) -> Iterator[FeatureStore]:
    """An applied repo on SQLite or on the real Redis; its online values removed after."""
    url = request.getfixturevalue("redis_url") if online_kind == "redis" else None
    store = apply_repo(
        make_repo(REPO_FILES, config=online_config(online_kind, url, unique_project))
    )
    yield store
    store.teardown()


@pytest.fixture
def serve() -> Iterator[Callable[..., FeatureServer]]:
    started: list[FeatureServer] = []

    def start(store: FeatureStore, **options: Any) -> FeatureServer:
        options.setdefault("port", 0)
        server = FeatureServer(store, ServeOptions(**options)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(grace=0)


@pytest.fixture
def applied_repo(make_repo: Callable[..., Path]) -> Callable[[str], FeatureStore]:
    """``applied_repo(config_yaml)``: the serving repo with this config, applied."""
    return lambda config: apply_repo(make_repo(REPO_FILES, config=config))


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def data_store(applied_repo: Callable[[str], Any], unique_project: str) -> Any:
    """The serving repo on SQLite with four rows of driver_stats in its Parquet source."""
    store = applied_repo(f"project: {unique_project}\n")
    data = store.repo_path / "data"
    data.mkdir(exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "driver_id": pa.array([1, 1, 2, 3], pa.int64()),
                "event_timestamp": pa.array(
                    [T0, T0 + timedelta(hours=2), T0, T0 + timedelta(days=1)],
                    pa.timestamp("us", tz="UTC"),
                ),
                "conv_rate": [0.1, 0.2, 0.5, 0.9],
                "trips": pa.array([1, 2, 5, 9], pa.int64()),
                "city": ["a", "b", "c", "d"],
            }
        ),
        data / "driver.parquet",
    )
    return store

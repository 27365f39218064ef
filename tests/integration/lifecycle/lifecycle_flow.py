"""A feature repo with data relative to the real clock, on SQLite or a real Redis, for the
whole lifecycle: dataset, model, materialize, deploy, serve."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from featurestore import FeatureStore

VIEWS = """
from datetime import timedelta
import polars as pl
from featurestore import (
    Entity, FeatureService, FeatureView, Field, ParquetSource, on_demand_feature_view,
)
from featurestore.types import Float64, Int32, Int64, String

member = Entity(name="member", join_keys=["member_id"])
activity = FeatureView(
    name="activity",
    entities=[member],
    ttl=timedelta(hours={ttl_hours}),
    schema=[Field("plays", {plays}), Field("minutes", Float64), Field("device", String)],
    source=ParquetSource(path="data/activity", created_timestamp_column="created"),
    online={online},
    owner="{owner}",
)
profile = FeatureView(
    name="profile",
    entities=[member],
    schema=[Field("tenure", Int64)],
    source=ParquetSource(path="data/profile.parquet"),
)
@on_demand_feature_view(sources=[activity], schema=[Field("minutes_per_play", Float64)])
def per_play(df: pl.DataFrame) -> pl.DataFrame:
    return df.select((pl.col("minutes") / pl.col("plays")).alias("minutes_per_play"))


churn_features = FeatureService(
    name="churn_features", features=[activity[["plays", "minutes"]], profile]
)
"""
DEFAULTS: dict[str, Any] = {"ttl_hours": 48, "plays": "Int64", "online": "True", "owner": "ana"}
MEMBERS = (1, 2, 3, 4)


class Flow:
    """The repo, its store, and the clock its data was written against."""

    def __init__(self, path: Path, now: datetime) -> None:
        self.path = path
        self.now = now
        self.store = FeatureStore(path)

    def define(self, **changes: Any) -> str:
        """Write the definitions with ``changes`` and apply them; the new version id."""
        (self.path / "views.py").write_text(VIEWS.format(**{**DEFAULTS, **changes}))
        shutil.rmtree(self.path / "__pycache__", ignore_errors=True)
        version = self.store.registry.commit(
            self.store.load_repo(), parent=self.store.registry.head(), author="test"
        )
        return version

    def write_activity(
        self, hours_ago: list[int], *, plays_offset: int = 0, name: str = "a"
    ) -> Path:
        """One row per member per entry of ``hours_ago``; plays = 10 * member + hours ago."""
        rows = [(m, h) for h in hours_ago for m in MEMBERS]
        stamps = [self.now - timedelta(hours=h) for _, h in rows]
        frame = pl.DataFrame(
            {
                "member_id": [m for m, _ in rows],
                "event_timestamp": stamps,
                "created": stamps,
                "plays": [10 * m + h + plays_offset for m, h in rows],
                "minutes": [m * 1.5 + h for m, h in rows],
                "device": ["tv" if m % 2 else "web" for m, _ in rows],
            }
        )
        path = self.path / "data" / "activity" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
        return path

    def write_profile(self) -> None:
        frame = pl.DataFrame(
            {
                "member_id": list(MEMBERS),
                "event_timestamp": [self.now - timedelta(days=30)] * len(MEMBERS),
                "tenure": [12 * m for m in MEMBERS],
            }
        )
        frame.write_parquet(self.path / "data" / "profile.parquet")

    def entity_df(self) -> pl.DataFrame:
        """Two rows per member (one an hour ago, one 3 hours ago) with a churn label."""
        rows = [(m, h) for m in MEMBERS for h in (1, 3)]
        return pl.DataFrame(
            {
                "member_id": [m for m, _ in rows],
                "event_timestamp": [self.now - timedelta(hours=h) for _, h in rows],
                "churned": [m % 2 == 0 for m, _ in rows],
            }
        )

    def materialize(self) -> None:
        results = self.store.materialize(self.now - timedelta(days=60), self.now)
        assert all(r.ok for r in results), results


def make_flow(
    make_repo: Callable[..., Path], online_store: str = "", project: str = "lifecycle_it"
) -> Flow:
    config = f"project: {project}\n" + textwrap.dedent(online_store)
    path = make_repo(config=config)
    now = datetime.now(UTC).replace(microsecond=0)
    flow = Flow(path, now)
    flow.write_activity([1, 2, 5])
    flow.write_profile()
    flow.define()
    return flow

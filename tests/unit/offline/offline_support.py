"""Helpers for training-frame tests: a store on a temp dir, Parquet writers, one-call frames."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from featurestore.definitions import Entity, FeatureView, Field, ParquetSource
from featurestore.definitions.collection import Definition, Definitions
from featurestore.offline.retrieval import RetrievalJob, build_job
from featurestore.repo.config import RepoConfig
from featurestore.store import FeatureStore
from featurestore.types import Int64

T0 = datetime(2024, 1, 1)


def at(hours: float = 0, *, us: int = 0) -> datetime:
    """A naive (UTC) time ``hours`` after 2024-01-01, plus ``us`` microseconds."""
    return T0 + timedelta(hours=hours, microseconds=us)


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


MEMBER = Entity(name="member", join_keys=["member_id"])


class Offline:
    """A feature repo in a temp dir, without a registry: definitions are passed directly."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = FeatureStore(root, config=RepoConfig(project="t"))

    def write(self, name: str, data: dict[str, Sequence[Any]] | pa.Table) -> str:
        """Write a Parquet file under the repo (subdirectories made) and return its path."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        table = data if isinstance(data, pa.Table) else pa.table(data)
        pq.write_table(table, path)
        return str(path)

    def view(
        self,
        name: str,
        path: str,
        features: Sequence[str] = ("plays",),
        *,
        entities: Sequence[Entity] = (MEMBER,),
        ttl: timedelta | None = None,
        created: str | None = None,
        dtype: Any = Int64,
        **source: Any,
    ) -> FeatureView:
        return FeatureView(
            name=name,
            entities=entities,
            schema=[Field(f, dtype) for f in features],
            source=ParquetSource(path=path, created_timestamp_column=created, **source),
            ttl=ttl,
        )

    def job(
        self,
        objects: Sequence[Definition],
        entity_df: Any,
        refs: Sequence[str] | str,
        **options: Any,
    ) -> RetrievalJob:
        entities = {e.name: e for o in objects if isinstance(o, FeatureView) for e in o.entities}
        defs = Definitions.build("t", [*entities.values(), *objects])
        selected = defs.select(refs)
        return build_job(self.store, selected, entity_df, **options)

    def frame(
        self,
        objects: Sequence[Definition],
        entity_df: Any,
        refs: Sequence[str] | str,
        **options: Any,
    ) -> pl.DataFrame:
        return self.job(objects, entity_df, refs, **options).to_polars()


def entity_rows(
    keys: Sequence[Any], times: Sequence[datetime | None], **extra: Any
) -> pl.DataFrame:
    """Entity rows with ``member_id`` and ``event_timestamp`` (plus extra columns)."""
    return pl.DataFrame(
        {"member_id": keys, "event_timestamp": times, **extra},
        schema_overrides={"event_timestamp": pl.Datetime("us")},
    )

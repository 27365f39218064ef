"""A small feature repo with real Parquet data and a real registry, for lifecycle tests."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from featurestore.lifecycle.lineage import source_files
from featurestore.lifecycle.records import TrainingDataset, ViewLineage
from featurestore.repo.fingerprint import data_fingerprint
from featurestore.store import FeatureStore

VIEWS = """
from datetime import timedelta
from featurestore import Entity, FeatureView, Field, ParquetSource
from featurestore.types import Float64, Int32, Int64, String

member = Entity(name="member", join_keys=["member_id"]{entity_extra})
activity = FeatureView(
    name="activity",
    entities=[member],
    ttl={ttl},
    schema=[
        Field("plays", {plays}), Field("minutes", Float64), Field("device", String){extra_fields}
    ],
    source=ParquetSource(path="{path}", created_timestamp_column="created"),
    online={online},
    schedule="{schedule}",
    owner="{owner}",
)
"""

DEFAULTS: dict[str, Any] = {
    "ttl": "timedelta(days=2)",
    "plays": "Int64",
    "path": "data/activity",
    "online": "True",
    "schedule": "",
    "owner": "ana",
    "entity_extra": "",
    "extra_fields": "",
}

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write_activity(repo: Path, rows: int = 6, name: str = "part-0.parquet") -> Path:
    """Hourly rows for members 1..3 from T0."""
    frame = pl.DataFrame(
        {
            "member_id": [1 + i % 3 for i in range(rows)],
            "event_timestamp": [T0.replace(hour=i) for i in range(rows)],
            "created": [T0.replace(hour=i) for i in range(rows)],
            "plays": [10 * i for i in range(rows)],
            "minutes": [1.5 * i for i in range(rows)],
            "device": ["tv" if i % 2 else "web" for i in range(rows)],
        }
    )
    path = repo / "data" / "activity" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


class Repo:
    """A repo on disk whose definitions can be rewritten and committed to its registry."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = FeatureStore(path)

    def define(self, **changes: Any) -> str:
        """Write the views file with ``changes`` to the defaults and commit it; the version."""
        (self.path / "views.py").write_text(VIEWS.format(**{**DEFAULTS, **changes}))
        # a rewrite of the same size in the same second must not reuse stale bytecode
        shutil.rmtree(self.path / "__pycache__", ignore_errors=True)
        defs = self.store.load_repo()
        return self.store.registry.commit(
            defs, parent=self.store.registry.head(), author="test", message="test"
        )

    def dataset(self, features: tuple[str, ...] = ("plays", "minutes")) -> TrainingDataset:
        """A dataset record made by hand at the current version (no frame behind it)."""
        version = self.store.registry.head()
        assert version is not None
        defs = self.store.registry.read(version).definitions
        view = defs.feature_view("activity")
        lineage = ViewLineage(
            view="activity",
            kind="feature view",
            data_fingerprint=data_fingerprint(view, defs),
            features=features,
            source=view.batch_source.path,
            files=tuple(source_files(self.store, view.batch_source.path)),
        )
        return TrainingDataset(
            id="",
            name="train",
            project=defs.project,
            registry_version=version,
            feature_refs=tuple(f"activity:{f}" for f in features),
            feature_service="",
            views=(lineage,),
            full_feature_names=False,
            filter_by_created_timestamp=False,
            entity_columns=("member_id", "event_timestamp"),
            entity_fingerprint="e" * 64,
            frame_fingerprint="f" * 64,
            row_count=0,
            schema=(("member_id", "int64"),),
            uri=str(self.path / "data" / "datasets" / "train.parquet"),
            created_at=T0,
            created_by="test",
        )

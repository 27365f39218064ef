"""Watermarks: kept next to the registry, forward only, per schema version, atomic."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from featurestore import FeatureStore, FeatureView, Field
from featurestore.errors import RegistryError
from featurestore.materialize import watermarks
from featurestore.types import String

DEFS = {
    "defs.py": """
    from featurestore import Entity, FeatureView, Field, ParquetSource
    from featurestore.types import Int64
    m = Entity(name="m", join_keys=["m_id"])
    VIEWS = [FeatureView(name=f"v{i}", entities=[m], schema=[Field("x", Int64)],
                         source=ParquetSource(path="data/v.parquet")) for i in range(8)]
    v0, v1, v2, v3, v4, v5, v6, v7 = VIEWS
    """
}
T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["local", "memory"])
def store(request, make_repo, unique_project) -> FeatureStore:
    registry = "data/registry" if request.param == "local" else f"memory://{unique_project}/reg"
    # local: temp file + rename under a file lock; memory://: one put, like object stores
    repo = make_repo(DEFS, config=f"project: {unique_project}\nregistry: {registry}\n")
    store = FeatureStore(repo)
    store.apply(plan=store.plan(check_data=False))
    return store


def test_forward_only_and_per_view(store: FeatureStore) -> None:
    defs = store.definitions()
    v0, v1 = defs.feature_view("v0"), defs.feature_view("v1")
    assert watermarks.get_watermark(store, v0) is None
    watermarks.advance(store, {v0: T, v1: T + timedelta(hours=1)})
    watermarks.advance(store, {v0: T - timedelta(days=1)})  # a backfill: stays
    assert watermarks.get_watermark(store, "v0") == T
    assert watermarks.all_watermarks(store) == {"v0": T, "v1": T + timedelta(hours=1)}
    raw = json.loads(store.registry._fs.cat_file(watermarks_path(store)))
    assert raw["v0"]["end"] == T.isoformat()


def test_a_new_schema_version_has_no_watermark(store: FeatureStore) -> None:
    v0 = store.definitions().feature_view("v0")
    watermarks.advance(store, {v0: T})
    changed = FeatureView(
        name="v0", entities=v0.entities, schema=[Field("x", String)], source=v0.source
    )
    assert watermarks.get_watermark(store, changed) is None


def test_concurrent_advances_lose_nothing(store: FeatureStore) -> None:
    views = list(store.definitions().feature_views.values())
    threads = [
        threading.Thread(target=watermarks.advance, args=(store, {v: T + timedelta(minutes=i)}))
        for i, v in enumerate(views)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(watermarks.all_watermarks(store)) == len(views)


def test_corrupt_file_is_a_clear_error(store: FeatureStore) -> None:
    fs = store.registry._fs
    fs.makedirs(fs._parent(watermarks_path(store)), exist_ok=True)
    fs.pipe_file(watermarks_path(store), b"{not json")
    with pytest.raises(RegistryError, match="not valid JSON"):
        watermarks.all_watermarks(store)


def watermarks_path(store: FeatureStore) -> str:
    import fsspec

    return fsspec.core.url_to_fs(store.registry.state_url(watermarks.STATE_NAME))[1]

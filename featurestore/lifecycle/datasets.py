"""Training datasets: a training frame written as Parquet plus a manifest in the registry.

The manifest records the registry version the frame was made with, each view's data
fingerprint, the files each source had (path, size, mtime or etag), fingerprints of the
entity rows and of the whole frame, the schema, and who made it when. ``verify_training_dataset``
makes the frame again and says whether it still matches and, if not, what changed.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from featurestore._frozen import FrozenDict
from featurestore._proto import lifecycle_pb2 as pb
from featurestore.definitions import FeatureService, FeatureView, OnDemandFeatureView
from featurestore.definitions.collection import Definitions, FeatureSelection
from featurestore.errors import FeatureStoreError, NotFoundError, RegistryError, SourceDataError
from featurestore.lifecycle._storage import check_name, record_store, short
from featurestore.lifecycle.lineage import (
    SourceFile,
    repo_relative,
    source_files,
    table_fingerprint,
)
from featurestore.lifecycle.records import (
    TrainingDataset,
    ViewLineage,
    dataset_from_proto,
    dataset_to_proto,
)
from featurestore.offline.source import arrow_filesystem
from featurestore.registry.store import default_author
from featurestore.repo.fingerprint import data_fingerprint

if TYPE_CHECKING:
    from featurestore.offline.retrieval import EntitySource
    from featurestore.store import Features, FeatureStore

KIND = "datasets"
DEFAULT_LOCATION = "data/datasets"


def create_training_dataset(
    store: FeatureStore,
    name: str,
    entity_df: EntitySource,
    features: Features,
    *,
    location: str | None = None,
    full_feature_names: bool = False,
    filter_by_created_timestamp: bool = False,
    description: str = "",
    tags: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> TrainingDataset:
    """Make a training frame, write it as Parquet under ``location`` (default
    ``data/datasets/<name>/`` in the repo) and record its manifest under ``name``.

    Raises ``RegistryError`` if ``name`` exists (unless ``overwrite``: the name then points
    to the new dataset; models keep pointing to the one they were trained on).
    """
    check_name("training dataset", name)
    records = record_store(store, KIND)
    previous = records.ref(name)
    if previous is not None and not overwrite:
        msg = (
            f"training dataset {name!r} already exists (record {short(previous)}); "
            "choose another name or pass overwrite=True"
        )
        raise RegistryError(msg)
    version = store.pinned_version or store.registry.head()
    if version is None:
        msg = "the registry is empty; run `featurestore apply` before making a training dataset"
        raise RegistryError(msg)
    version = store.registry.resolve(version)
    pinned = _pinned(store, version)
    defs = pinned.definitions()
    selections = defs.select(features)
    refs = tuple(f"{s.view.name}:{f}" for s in selections for f in s.features)
    before = _lineage(pinned, defs, selections)
    frame = pinned.get_historical_features(
        entity_df,
        list(refs),
        full_feature_names=full_feature_names,
        filter_by_created_timestamp=filter_by_created_timestamp,
    ).to_arrow()
    after = _lineage(pinned, defs, selections)
    if before != after:
        changed = sorted(
            {f.path for b, a in zip(before, after, strict=True) for f in {*b.files} ^ {*a.files}}
        )
        msg = (
            f"source files changed while training dataset {name!r} was being made: "
            f"{changed}; nothing was recorded, try again"
        )
        raise SourceDataError(msg)
    outputs = set(output_names(selections, full_feature_names=full_feature_names))
    entity_columns = tuple(c for c in frame.column_names if c not in outputs)
    frame_fp = table_fingerprint(frame)
    base = (location or f"{DEFAULT_LOCATION}/{name}").rstrip("/")
    uri = f"{store.resolve_path(base)}/{frame_fp[:16]}.parquet"
    _write_parquet(frame, uri)
    dataset = TrainingDataset(
        id="",
        name=name,
        project=store.project,
        registry_version=version,
        feature_refs=refs,
        feature_service=_service_name(features, defs),
        views=before,
        full_feature_names=full_feature_names,
        filter_by_created_timestamp=filter_by_created_timestamp,
        entity_columns=entity_columns,
        entity_fingerprint=table_fingerprint(frame.select(list(entity_columns))),
        frame_fingerprint=frame_fp,
        row_count=frame.num_rows,
        schema=tuple((f.name, str(f.type)) for f in frame.schema),
        uri=repo_relative(store, uri),
        created_at=datetime.now(UTC),
        created_by=default_author(store.repo_path),
        description=description,
        tags=FrozenDict(dict(tags or {})),
    )
    record_id = records.put(dataset_to_proto(dataset))
    records.swap(name, record_id, expected=previous)
    return dataset_by_id(store, record_id)


def get_training_dataset(store: FeatureStore, name: str) -> TrainingDataset:
    """The training dataset recorded under ``name`` (its frame via ``.to_arrow()``)."""
    records = record_store(store, KIND)
    record_id = records.ref(name)
    if record_id is None:
        known = sorted(records.refs())
        msg = f"no training dataset named {name!r}; known: {known or 'none'}"
        raise NotFoundError(msg)
    return dataset_by_id(store, record_id)


def dataset_by_id(store: FeatureStore, record_id: str) -> TrainingDataset:
    """The dataset record with this id; its ``uri`` resolved against the repo."""
    msg = record_store(store, KIND).get(record_id, pb.TrainingDataset)
    dataset = dataset_from_proto(record_id, msg)
    return dataclasses.replace(dataset, uri=store.resolve_path(dataset.uri))


def list_training_datasets(store: FeatureStore) -> list[TrainingDataset]:
    """Every named training dataset, by name."""
    return [
        dataset_by_id(store, rid) for _, rid in sorted(record_store(store, KIND).refs().items())
    ]


def output_names(selections: list[FeatureSelection], *, full_feature_names: bool) -> list[str]:
    """The frame's feature column names for these selections."""
    return [
        f"{s.view.name}__{f}" if full_feature_names else f for s in selections for f in s.features
    ]


def views_read(
    defs: Definitions, selections: list[FeatureSelection]
) -> list[tuple[FeatureView | OnDemandFeatureView, tuple[str, ...]]]:
    """The selected views with their features, then feature views read only by selected
    on-demand views (with no features of their own)."""
    out: list[tuple[FeatureView | OnDemandFeatureView, tuple[str, ...]]] = [
        (s.view, s.features) for s in selections
    ]
    seen = {s.view.name for s in selections}
    for sel in selections:
        if isinstance(sel.view, OnDemandFeatureView):
            for src in sel.view.source_views:
                if src.name not in seen:
                    seen.add(src.name)
                    out.append((defs.feature_view(src.name), ()))
    return out


def _lineage(
    store: FeatureStore, defs: Definitions, selections: list[FeatureSelection]
) -> tuple[ViewLineage, ...]:
    out = []
    for view, features in views_read(defs, selections):
        if isinstance(view, FeatureView):
            path = view.batch_source.path
            files: tuple[SourceFile, ...] = tuple(source_files(store, path, view=view.name))
            kind = "feature view"
        else:
            path, files, kind = "", (), "on-demand feature view"
        out.append(
            ViewLineage(
                view=view.name,
                kind=kind,
                data_fingerprint=data_fingerprint(view, defs),
                features=features,
                source=path,
                files=files,
            )
        )
    return tuple(out)


def _service_name(features: Features, defs: Definitions) -> str:
    if isinstance(features, FeatureService):
        return features.name
    if isinstance(features, str):
        return defs.feature_service(features).name
    return ""


def _pinned(store: FeatureStore, version: str) -> FeatureStore:
    if store.pinned_version is not None:
        return store
    from featurestore.store import FeatureStore

    return FeatureStore(store.repo_path, config=store.config, registry_version=version)


def _write_parquet(table: pa.Table, uri: str) -> None:
    """Write ``table`` at ``uri`` so readers never see a partial file."""
    fs, path = fsspec.core.url_to_fs(uri)
    parent = path.rsplit("/", 1)[0]
    tmp = f"{parent}/.{uuid.uuid4().hex}.tmp"
    try:
        fs.makedirs(parent, exist_ok=True)
        pq.write_table(table, tmp, filesystem=arrow_filesystem(fs))
        fs.mv(tmp, path)
    except OSError as exc:
        if fs.exists(tmp):
            fs.rm_file(tmp)
        msg = f"cannot write the training frame to {uri}: {exc}"
        raise FeatureStoreError(msg) from exc

"""The lifecycle records as frozen values, and their protobuf form (``lifecycle.proto``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from featurestore._frozen import FrozenDict
from featurestore._proto import lifecycle_pb2 as pb
from featurestore.lifecycle.lineage import SourceFile
from featurestore.offline.source import arrow_filesystem


@dataclass(frozen=True)
class ViewLineage:
    """A view a dataset read: its data fingerprint, the features taken (empty: read only by
    an on-demand view), its source and that source's files."""

    view: str
    kind: str
    data_fingerprint: str
    features: tuple[str, ...]
    source: str = ""
    files: tuple[SourceFile, ...] = ()


@dataclass(frozen=True)
class TrainingDataset:
    """A training frame stored as Parquet, with everything needed to make it again.

    ``to_arrow()`` / ``to_polars()`` read the stored frame.
    """

    id: str
    name: str
    project: str
    registry_version: str
    feature_refs: tuple[str, ...]
    feature_service: str
    views: tuple[ViewLineage, ...]
    full_feature_names: bool
    filter_by_created_timestamp: bool
    entity_columns: tuple[str, ...]
    entity_fingerprint: str
    frame_fingerprint: str
    row_count: int
    schema: tuple[tuple[str, str], ...]
    uri: str
    created_at: datetime
    created_by: str
    description: str = ""
    tags: FrozenDict = field(default_factory=FrozenDict)

    def to_arrow(self) -> pa.Table:
        """The stored frame."""
        import fsspec

        fs, path = fsspec.core.url_to_fs(self.uri)
        return pq.read_table(path, filesystem=arrow_filesystem(fs))

    def to_polars(self) -> pl.DataFrame:
        frame = pl.from_arrow(self.to_arrow())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def view(self, name: str) -> ViewLineage:
        for lineage in self.views:
            if lineage.view == name:
                return lineage
        raise KeyError(name)


@dataclass(frozen=True)
class Model:
    """A registered model version and exactly what it was trained on."""

    id: str
    name: str
    version: str
    training_dataset: str
    training_dataset_id: str
    registry_version: str
    feature_refs: tuple[str, ...]
    view_fingerprints: FrozenDict
    artifact_uri: str
    metrics: Mapping[str, float]
    tags: FrozenDict
    description: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class DeployCheck:
    """One deploy check: its name (``compatibility``, ``freshness``, ``skew``), whether it
    passed, and lines saying what it found."""

    name: str
    passed: bool
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployment:
    """A deploy (``version`` set) or an undeploy (``version`` empty) of a model."""

    id: str
    model: str
    version: str
    model_id: str
    registry_version: str
    feature_refs: tuple[str, ...]
    deployed_at: datetime
    deployed_by: str
    previous: str
    rolled_back_from: str
    checks: tuple[DeployCheck, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.version)


# --- protobuf -----------------------------------------------------------------------------


def _ts(value: datetime, target: object) -> None:
    target.FromDatetime(value.astimezone(UTC))  # type: ignore[attr-defined]


def _dt(msg: object) -> datetime:
    return msg.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined]


def dataset_to_proto(d: TrainingDataset) -> pb.TrainingDataset:
    msg = pb.TrainingDataset(
        name=d.name,
        project=d.project,
        registry_version=d.registry_version,
        feature_refs=d.feature_refs,
        feature_service=d.feature_service,
        views=[_lineage_to_proto(v) for v in d.views],
        full_feature_names=d.full_feature_names,
        filter_by_created_timestamp=d.filter_by_created_timestamp,
        entity_columns=d.entity_columns,
        entity_fingerprint=d.entity_fingerprint,
        frame_fingerprint=d.frame_fingerprint,
        row_count=d.row_count,
        schema=[pb.Column(name=n, arrow_type=t) for n, t in d.schema],
        uri=d.uri,
        created_by=d.created_by,
        description=d.description,
        tags=dict(d.tags),
    )
    _ts(d.created_at, msg.created_at)
    return msg


def dataset_from_proto(record_id: str, msg: pb.TrainingDataset) -> TrainingDataset:
    return TrainingDataset(
        id=record_id,
        name=msg.name,
        project=msg.project,
        registry_version=msg.registry_version,
        feature_refs=tuple(msg.feature_refs),
        feature_service=msg.feature_service,
        views=tuple(_lineage_from_proto(v) for v in msg.views),
        full_feature_names=msg.full_feature_names,
        filter_by_created_timestamp=msg.filter_by_created_timestamp,
        entity_columns=tuple(msg.entity_columns),
        entity_fingerprint=msg.entity_fingerprint,
        frame_fingerprint=msg.frame_fingerprint,
        row_count=msg.row_count,
        schema=tuple((c.name, c.arrow_type) for c in msg.schema),
        uri=msg.uri,
        created_at=_dt(msg.created_at),
        created_by=msg.created_by,
        description=msg.description,
        tags=FrozenDict(dict(msg.tags)),
    )


def _lineage_to_proto(v: ViewLineage) -> pb.ViewLineage:
    files = []
    for f in v.files:
        file_msg = pb.SourceFile(path=f.path, size=f.size, etag=f.etag)
        if f.mtime is not None:
            _ts(f.mtime, file_msg.mtime)
        files.append(file_msg)
    return pb.ViewLineage(
        view=v.view,
        kind=v.kind,
        data_fingerprint=v.data_fingerprint,
        features=v.features,
        source=v.source,
        files=files,
    )


def _lineage_from_proto(msg: pb.ViewLineage) -> ViewLineage:
    files = tuple(
        SourceFile(
            path=f.path,
            size=f.size,
            mtime=_dt(f.mtime) if f.HasField("mtime") else None,
            etag=f.etag,
        )
        for f in msg.files
    )
    return ViewLineage(
        view=msg.view,
        kind=msg.kind,
        data_fingerprint=msg.data_fingerprint,
        features=tuple(msg.features),
        source=msg.source,
        files=files,
    )


def model_to_proto(m: Model) -> pb.Model:
    msg = pb.Model(
        name=m.name,
        version=m.version,
        training_dataset=m.training_dataset,
        training_dataset_id=m.training_dataset_id,
        registry_version=m.registry_version,
        feature_refs=m.feature_refs,
        view_fingerprints=dict(m.view_fingerprints),
        artifact_uri=m.artifact_uri,
        metrics=dict(m.metrics),
        tags=dict(m.tags),
        description=m.description,
        created_by=m.created_by,
    )
    _ts(m.created_at, msg.created_at)
    return msg


def model_from_proto(record_id: str, msg: pb.Model) -> Model:
    return Model(
        id=record_id,
        name=msg.name,
        version=msg.version,
        training_dataset=msg.training_dataset,
        training_dataset_id=msg.training_dataset_id,
        registry_version=msg.registry_version,
        feature_refs=tuple(msg.feature_refs),
        view_fingerprints=FrozenDict(dict(msg.view_fingerprints)),
        artifact_uri=msg.artifact_uri,
        metrics=dict(msg.metrics),
        tags=FrozenDict(dict(msg.tags)),
        description=msg.description,
        created_at=_dt(msg.created_at),
        created_by=msg.created_by,
    )


def deployment_to_proto(d: Deployment) -> pb.Deployment:
    msg = pb.Deployment(
        model=d.model,
        version=d.version,
        model_id=d.model_id,
        registry_version=d.registry_version,
        feature_refs=d.feature_refs,
        deployed_by=d.deployed_by,
        previous=d.previous,
        rolled_back_from=d.rolled_back_from,
        checks=[pb.DeployCheck(name=c.name, passed=c.passed, details=c.details) for c in d.checks],
    )
    _ts(d.deployed_at, msg.deployed_at)
    return msg


def deployment_from_proto(record_id: str, msg: pb.Deployment) -> Deployment:
    return Deployment(
        id=record_id,
        model=msg.model,
        version=msg.version,
        model_id=msg.model_id,
        registry_version=msg.registry_version,
        feature_refs=tuple(msg.feature_refs),
        deployed_at=_dt(msg.deployed_at),
        deployed_by=msg.deployed_by,
        previous=msg.previous,
        rolled_back_from=msg.rolled_back_from,
        checks=tuple(
            DeployCheck(name=c.name, passed=c.passed, details=tuple(c.details)) for c in msg.checks
        ),
    )

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SourceFile(_message.Message):
    __slots__ = ("path", "size", "mtime", "etag")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MTIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    mtime: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ..., mtime: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class ViewLineage(_message.Message):
    __slots__ = ("view", "kind", "data_fingerprint", "features", "source", "files")
    VIEW_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    view: str
    kind: str
    data_fingerprint: str
    features: _containers.RepeatedScalarFieldContainer[str]
    source: str
    files: _containers.RepeatedCompositeFieldContainer[SourceFile]
    def __init__(self, view: _Optional[str] = ..., kind: _Optional[str] = ..., data_fingerprint: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ..., files: _Optional[_Iterable[_Union[SourceFile, _Mapping]]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "arrow_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARROW_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    arrow_type: str
    def __init__(self, name: _Optional[str] = ..., arrow_type: _Optional[str] = ...) -> None: ...

class TrainingDataset(_message.Message):
    __slots__ = ("name", "project", "registry_version", "feature_refs", "feature_service", "views", "full_feature_names", "filter_by_created_timestamp", "entity_columns", "entity_fingerprint", "frame_fingerprint", "row_count", "schema", "uri", "created_at", "created_by", "description", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_REFS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SERVICE_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    FULL_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    FILTER_BY_CREATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ENTITY_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    FRAME_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    project: str
    registry_version: str
    feature_refs: _containers.RepeatedScalarFieldContainer[str]
    feature_service: str
    views: _containers.RepeatedCompositeFieldContainer[ViewLineage]
    full_feature_names: bool
    filter_by_created_timestamp: bool
    entity_columns: _containers.RepeatedScalarFieldContainer[str]
    entity_fingerprint: str
    frame_fingerprint: str
    row_count: int
    schema: _containers.RepeatedCompositeFieldContainer[Column]
    uri: str
    created_at: _timestamp_pb2.Timestamp
    created_by: str
    description: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., project: _Optional[str] = ..., registry_version: _Optional[str] = ..., feature_refs: _Optional[_Iterable[str]] = ..., feature_service: _Optional[str] = ..., views: _Optional[_Iterable[_Union[ViewLineage, _Mapping]]] = ..., full_feature_names: _Optional[bool] = ..., filter_by_created_timestamp: _Optional[bool] = ..., entity_columns: _Optional[_Iterable[str]] = ..., entity_fingerprint: _Optional[str] = ..., frame_fingerprint: _Optional[str] = ..., row_count: _Optional[int] = ..., schema: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., uri: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "version", "training_dataset", "training_dataset_id", "registry_version", "feature_refs", "view_fingerprints", "artifact_uri", "metrics", "tags", "description", "created_at", "created_by")
    class ViewFingerprintsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_REFS_FIELD_NUMBER: _ClassVar[int]
    VIEW_FINGERPRINTS_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    training_dataset: str
    training_dataset_id: str
    registry_version: str
    feature_refs: _containers.RepeatedScalarFieldContainer[str]
    view_fingerprints: _containers.ScalarMap[str, str]
    artifact_uri: str
    metrics: _containers.ScalarMap[str, float]
    tags: _containers.ScalarMap[str, str]
    description: str
    created_at: _timestamp_pb2.Timestamp
    created_by: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., training_dataset: _Optional[str] = ..., training_dataset_id: _Optional[str] = ..., registry_version: _Optional[str] = ..., feature_refs: _Optional[_Iterable[str]] = ..., view_fingerprints: _Optional[_Mapping[str, str]] = ..., artifact_uri: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., tags: _Optional[_Mapping[str, str]] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class DeployCheck(_message.Message):
    __slots__ = ("name", "passed", "details")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    name: str
    passed: bool
    details: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., passed: _Optional[bool] = ..., details: _Optional[_Iterable[str]] = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ("model", "version", "model_id", "registry_version", "feature_refs", "deployed_at", "deployed_by", "previous", "rolled_back_from", "checks")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_REFS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_AT_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_BY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    ROLLED_BACK_FROM_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: str
    model_id: str
    registry_version: str
    feature_refs: _containers.RepeatedScalarFieldContainer[str]
    deployed_at: _timestamp_pb2.Timestamp
    deployed_by: str
    previous: str
    rolled_back_from: str
    checks: _containers.RepeatedCompositeFieldContainer[DeployCheck]
    def __init__(self, model: _Optional[str] = ..., version: _Optional[str] = ..., model_id: _Optional[str] = ..., registry_version: _Optional[str] = ..., feature_refs: _Optional[_Iterable[str]] = ..., deployed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deployed_by: _Optional[str] = ..., previous: _Optional[str] = ..., rolled_back_from: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[DeployCheck, _Mapping]]] = ...) -> None: ...

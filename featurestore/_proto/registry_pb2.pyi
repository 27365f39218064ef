import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Field(_message.Message):
    __slots__ = ("name", "dtype", "description", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: str
    description: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Entity(_message.Message):
    __slots__ = ("name", "join_keys", "join_key_types", "description", "tags", "owner")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    JOIN_KEYS_FIELD_NUMBER: _ClassVar[int]
    JOIN_KEY_TYPES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    name: str
    join_keys: _containers.RepeatedScalarFieldContainer[str]
    join_key_types: _containers.RepeatedScalarFieldContainer[str]
    description: str
    tags: _containers.ScalarMap[str, str]
    owner: str
    def __init__(self, name: _Optional[str] = ..., join_keys: _Optional[_Iterable[str]] = ..., join_key_types: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., owner: _Optional[str] = ...) -> None: ...

class ParquetSource(_message.Message):
    __slots__ = ("path", "timestamp_field", "created_timestamp_column", "field_mapping")
    class FieldMappingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PATH_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIMESTAMP_COLUMN_FIELD_NUMBER: _ClassVar[int]
    FIELD_MAPPING_FIELD_NUMBER: _ClassVar[int]
    path: str
    timestamp_field: str
    created_timestamp_column: str
    field_mapping: _containers.ScalarMap[str, str]
    def __init__(self, path: _Optional[str] = ..., timestamp_field: _Optional[str] = ..., created_timestamp_column: _Optional[str] = ..., field_mapping: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PushSource(_message.Message):
    __slots__ = ("name", "batch_source", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BATCH_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    batch_source: ParquetSource
    description: str
    def __init__(self, name: _Optional[str] = ..., batch_source: _Optional[_Union[ParquetSource, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class RequestSource(_message.Message):
    __slots__ = ("name", "schema", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema: _containers.RepeatedCompositeFieldContainer[Field]
    description: str
    def __init__(self, name: _Optional[str] = ..., schema: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class FeatureView(_message.Message):
    __slots__ = ("name", "entities", "schema", "parquet_source", "push_source", "ttl", "online", "schedule", "owner", "tags", "description")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PARQUET_SOURCE_FIELD_NUMBER: _ClassVar[int]
    PUSH_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    schema: _containers.RepeatedCompositeFieldContainer[Field]
    parquet_source: ParquetSource
    push_source: PushSource
    ttl: _duration_pb2.Duration
    online: bool
    schedule: str
    owner: str
    tags: _containers.ScalarMap[str, str]
    description: str
    def __init__(self, name: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ..., schema: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., parquet_source: _Optional[_Union[ParquetSource, _Mapping]] = ..., push_source: _Optional[_Union[PushSource, _Mapping]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., online: _Optional[bool] = ..., schedule: _Optional[str] = ..., owner: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., description: _Optional[str] = ...) -> None: ...

class OnDemandSource(_message.Message):
    __slots__ = ("feature_view", "request_source")
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SOURCE_FIELD_NUMBER: _ClassVar[int]
    feature_view: str
    request_source: RequestSource
    def __init__(self, feature_view: _Optional[str] = ..., request_source: _Optional[_Union[RequestSource, _Mapping]] = ...) -> None: ...

class OnDemandFeatureView(_message.Message):
    __slots__ = ("name", "sources", "schema", "function", "source_hash", "owner", "tags", "description")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_HASH_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    sources: _containers.RepeatedCompositeFieldContainer[OnDemandSource]
    schema: _containers.RepeatedCompositeFieldContainer[Field]
    function: str
    source_hash: str
    owner: str
    tags: _containers.ScalarMap[str, str]
    description: str
    def __init__(self, name: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[OnDemandSource, _Mapping]]] = ..., schema: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., function: _Optional[str] = ..., source_hash: _Optional[str] = ..., owner: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., description: _Optional[str] = ...) -> None: ...

class ServiceEntry(_message.Message):
    __slots__ = ("view", "features")
    VIEW_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    view: str
    features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, view: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ...) -> None: ...

class FeatureService(_message.Message):
    __slots__ = ("name", "entries", "owner", "tags", "description")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    entries: _containers.RepeatedCompositeFieldContainer[ServiceEntry]
    owner: str
    tags: _containers.ScalarMap[str, str]
    description: str
    def __init__(self, name: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[ServiceEntry, _Mapping]]] = ..., owner: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., description: _Optional[str] = ...) -> None: ...

class Registry(_message.Message):
    __slots__ = ("project", "entities", "feature_views", "on_demand_feature_views", "feature_services")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    ON_DEMAND_FEATURE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SERVICES_FIELD_NUMBER: _ClassVar[int]
    project: str
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    feature_views: _containers.RepeatedCompositeFieldContainer[FeatureView]
    on_demand_feature_views: _containers.RepeatedCompositeFieldContainer[OnDemandFeatureView]
    feature_services: _containers.RepeatedCompositeFieldContainer[FeatureService]
    def __init__(self, project: _Optional[str] = ..., entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ..., feature_views: _Optional[_Iterable[_Union[FeatureView, _Mapping]]] = ..., on_demand_feature_views: _Optional[_Iterable[_Union[OnDemandFeatureView, _Mapping]]] = ..., feature_services: _Optional[_Iterable[_Union[FeatureService, _Mapping]]] = ...) -> None: ...

class VersionInfo(_message.Message):
    __slots__ = ("parent", "created_at", "author", "message", "rolled_back_from")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ROLLED_BACK_FROM_FIELD_NUMBER: _ClassVar[int]
    parent: str
    created_at: _timestamp_pb2.Timestamp
    author: str
    message: str
    rolled_back_from: str
    def __init__(self, parent: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., author: _Optional[str] = ..., message: _Optional[str] = ..., rolled_back_from: _Optional[str] = ...) -> None: ...

class RegistryVersion(_message.Message):
    __slots__ = ("info", "registry")
    INFO_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_FIELD_NUMBER: _ClassVar[int]
    info: VersionInfo
    registry: Registry
    def __init__(self, info: _Optional[_Union[VersionInfo, _Mapping]] = ..., registry: _Optional[_Union[Registry, _Mapping]] = ...) -> None: ...

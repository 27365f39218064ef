from featurestore._proto import registry_pb2 as _registry_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeatureStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEATURE_STATUS_PRESENT: _ClassVar[FeatureStatus]
    FEATURE_STATUS_NULL: _ClassVar[FeatureStatus]
    FEATURE_STATUS_NOT_FOUND: _ClassVar[FeatureStatus]
    FEATURE_STATUS_EXPIRED: _ClassVar[FeatureStatus]

class PushTarget(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_TARGET_ONLINE: _ClassVar[PushTarget]
    PUSH_TARGET_OFFLINE: _ClassVar[PushTarget]
    PUSH_TARGET_ONLINE_AND_OFFLINE: _ClassVar[PushTarget]
FEATURE_STATUS_PRESENT: FeatureStatus
FEATURE_STATUS_NULL: FeatureStatus
FEATURE_STATUS_NOT_FOUND: FeatureStatus
FEATURE_STATUS_EXPIRED: FeatureStatus
PUSH_TARGET_ONLINE: PushTarget
PUSH_TARGET_OFFLINE: PushTarget
PUSH_TARGET_ONLINE_AND_OFFLINE: PushTarget

class ValueColumn(_message.Message):
    __slots__ = ("bool_values", "int32_values", "int64_values", "float_values", "double_values", "string_values", "bytes_values", "timestamp_values", "list_values", "nulls")
    BOOL_VALUES_FIELD_NUMBER: _ClassVar[int]
    INT32_VALUES_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUES_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUES_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUES_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUES_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_VALUES_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUES_FIELD_NUMBER: _ClassVar[int]
    NULLS_FIELD_NUMBER: _ClassVar[int]
    bool_values: BoolValues
    int32_values: Int32Values
    int64_values: Int64Values
    float_values: FloatValues
    double_values: DoubleValues
    string_values: StringValues
    bytes_values: BytesValues
    timestamp_values: TimestampValues
    list_values: ListValues
    nulls: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, bool_values: _Optional[_Union[BoolValues, _Mapping]] = ..., int32_values: _Optional[_Union[Int32Values, _Mapping]] = ..., int64_values: _Optional[_Union[Int64Values, _Mapping]] = ..., float_values: _Optional[_Union[FloatValues, _Mapping]] = ..., double_values: _Optional[_Union[DoubleValues, _Mapping]] = ..., string_values: _Optional[_Union[StringValues, _Mapping]] = ..., bytes_values: _Optional[_Union[BytesValues, _Mapping]] = ..., timestamp_values: _Optional[_Union[TimestampValues, _Mapping]] = ..., list_values: _Optional[_Union[ListValues, _Mapping]] = ..., nulls: _Optional[_Iterable[bool]] = ...) -> None: ...

class BoolValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, values: _Optional[_Iterable[bool]] = ...) -> None: ...

class Int32Values(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class Int64Values(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class FloatValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class DoubleValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class StringValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class BytesValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, values: _Optional[_Iterable[bytes]] = ...) -> None: ...

class TimestampValues(_message.Message):
    __slots__ = ("micros",)
    MICROS_FIELD_NUMBER: _ClassVar[int]
    micros: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, micros: _Optional[_Iterable[int]] = ...) -> None: ...

class ListValues(_message.Message):
    __slots__ = ("offsets", "items")
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    offsets: _containers.RepeatedScalarFieldContainer[int]
    items: ValueColumn
    def __init__(self, offsets: _Optional[_Iterable[int]] = ..., items: _Optional[_Union[ValueColumn, _Mapping]] = ...) -> None: ...

class NamedColumn(_message.Message):
    __slots__ = ("name", "column")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    name: str
    column: ValueColumn
    def __init__(self, name: _Optional[str] = ..., column: _Optional[_Union[ValueColumn, _Mapping]] = ...) -> None: ...

class FeatureRefs(_message.Message):
    __slots__ = ("refs",)
    REFS_FIELD_NUMBER: _ClassVar[int]
    refs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, refs: _Optional[_Iterable[str]] = ...) -> None: ...

class GetOnlineFeaturesRequest(_message.Message):
    __slots__ = ("features", "feature_service", "model", "entities", "full_feature_names")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SERVICE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    FULL_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    features: FeatureRefs
    feature_service: str
    model: str
    entities: _containers.RepeatedCompositeFieldContainer[NamedColumn]
    full_feature_names: bool
    def __init__(self, features: _Optional[_Union[FeatureRefs, _Mapping]] = ..., feature_service: _Optional[str] = ..., model: _Optional[str] = ..., entities: _Optional[_Iterable[_Union[NamedColumn, _Mapping]]] = ..., full_feature_names: _Optional[bool] = ...) -> None: ...

class FeatureColumn(_message.Message):
    __slots__ = ("name", "values", "statuses", "event_timestamps")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: ValueColumn
    statuses: bytes
    event_timestamps: ValueColumn
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Union[ValueColumn, _Mapping]] = ..., statuses: _Optional[bytes] = ..., event_timestamps: _Optional[_Union[ValueColumn, _Mapping]] = ...) -> None: ...

class GetOnlineFeaturesResponse(_message.Message):
    __slots__ = ("entities", "features", "registry_version")
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[NamedColumn]
    features: _containers.RepeatedCompositeFieldContainer[FeatureColumn]
    registry_version: str
    def __init__(self, entities: _Optional[_Iterable[_Union[NamedColumn, _Mapping]]] = ..., features: _Optional[_Iterable[_Union[FeatureColumn, _Mapping]]] = ..., registry_version: _Optional[str] = ...) -> None: ...

class PushRequest(_message.Message):
    __slots__ = ("push_source", "columns", "to")
    PUSH_SOURCE_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    push_source: str
    columns: _containers.RepeatedCompositeFieldContainer[NamedColumn]
    to: PushTarget
    def __init__(self, push_source: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[NamedColumn, _Mapping]]] = ..., to: _Optional[_Union[PushTarget, str]] = ...) -> None: ...

class PushResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: int
    def __init__(self, rows: _Optional[int] = ...) -> None: ...

class ListFeatureViewsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFeatureViewsResponse(_message.Message):
    __slots__ = ("entities", "feature_views", "on_demand_feature_views", "registry_version")
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    ON_DEMAND_FEATURE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[_registry_pb2.Entity]
    feature_views: _containers.RepeatedCompositeFieldContainer[_registry_pb2.FeatureView]
    on_demand_feature_views: _containers.RepeatedCompositeFieldContainer[_registry_pb2.OnDemandFeatureView]
    registry_version: str
    def __init__(self, entities: _Optional[_Iterable[_Union[_registry_pb2.Entity, _Mapping]]] = ..., feature_views: _Optional[_Iterable[_Union[_registry_pb2.FeatureView, _Mapping]]] = ..., on_demand_feature_views: _Optional[_Iterable[_Union[_registry_pb2.OnDemandFeatureView, _Mapping]]] = ..., registry_version: _Optional[str] = ...) -> None: ...

class DescribeFeatureServiceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DescribeFeatureServiceResponse(_message.Message):
    __slots__ = ("feature_service", "entity_columns", "feature_columns", "registry_version")
    FEATURE_SERVICE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    feature_service: _registry_pb2.FeatureService
    entity_columns: _containers.RepeatedCompositeFieldContainer[_registry_pb2.Field]
    feature_columns: _containers.RepeatedCompositeFieldContainer[_registry_pb2.Field]
    registry_version: str
    def __init__(self, feature_service: _Optional[_Union[_registry_pb2.FeatureService, _Mapping]] = ..., entity_columns: _Optional[_Iterable[_Union[_registry_pb2.Field, _Mapping]]] = ..., feature_columns: _Optional[_Iterable[_Union[_registry_pb2.Field, _Mapping]]] = ..., registry_version: _Optional[str] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("server_version", "project", "registry_version", "registry_pinned", "flight_port")
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_PINNED_FIELD_NUMBER: _ClassVar[int]
    FLIGHT_PORT_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    project: str
    registry_version: str
    registry_pinned: bool
    flight_port: int
    def __init__(self, server_version: _Optional[str] = ..., project: _Optional[str] = ..., registry_version: _Optional[str] = ..., registry_pinned: _Optional[bool] = ..., flight_port: _Optional[int] = ...) -> None: ...

"""Arrow columns to and from the wire's ``ValueColumn``; ``OnlineResponse`` to and from proto.

Each Arrow type maps to one ``ValueColumn`` kind through ``featurestore.types``; narrower
integers and floats widen (int8 → Int32, uint32 → Int64), dates become timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from featurestore._proto import serving_pb2 as pb
from featurestore.errors import DefinitionError, RequestError
from featurestore.online.response import FeatureColumn, OnlineResponse
from featurestore.types import ArrayType, from_arrow

TIMESTAMP = pa.timestamp("us", tz="UTC")

# ValueColumn kind → (Arrow type, numpy dtype for numeric decoding or None).
_KINDS: dict[str, tuple[pa.DataType, Any]] = {
    "bool_values": (pa.bool_(), np.bool_),
    "int32_values": (pa.int32(), np.int32),
    "int64_values": (pa.int64(), np.int64),
    "float_values": (pa.float32(), np.float32),
    "double_values": (pa.float64(), np.float64),
    "string_values": (pa.string(), None),
    "bytes_values": (pa.binary(), None),
    "timestamp_values": (TIMESTAMP, np.int64),
}
KIND_OF_TYPE = {  # featurestore type name → ValueColumn kind
    "Bool": "bool_values",
    "Int32": "int32_values",
    "Int64": "int64_values",
    "Float32": "float_values",
    "Float64": "double_values",
    "String": "string_values",
    "Bytes": "bytes_values",
    "UnixTimestamp": "timestamp_values",
}
# A null row's placeholder value on the wire (its ``nulls`` flag says it is null), of the
# Python type the field holds (a repeated double field takes the int 0 slowly).
PLACEHOLDERS: dict[str, Any] = {
    "bool_values": False,
    "int32_values": 0,
    "int64_values": 0,
    "float_values": 0.0,
    "double_values": 0.0,
    "string_values": "",
    "bytes_values": b"",
    "timestamp_values": 0,
}
# Kinds whose values are a fixed-width buffer numpy can view without a copy.
_FIXED = {"int32_values", "int64_values", "float_values", "double_values", "timestamp_values"}
# Kinds whose values a Python list holds exactly, when no row is null.
_PLAIN = {"int32_values", "int64_values", "string_values", "bytes_values"}
_FEW = 128  # numeric columns up to this many rows are encoded through Python lists
_INT64 = pa.int64()
_kind_by_id: dict[int, str] = {}  # a scalar Arrow type's id decides its kind


def _kind_of(arrow_type: pa.DataType, name: str) -> str:
    """The ValueColumn kind for an Arrow type (scalar kinds are cached by type id: hashing
    a timestamp type costs more than encoding a small column)."""
    kind = _kind_by_id.get(arrow_type.id)
    if kind is not None:
        return kind
    try:
        value_type = from_arrow(arrow_type)
    except DefinitionError as exc:
        msg = f"column {name!r}: {exc}; supported: bool, integers, floats, strings, "
        msg += "binary, timestamps, dates and lists of these"
        raise RequestError(msg) from None
    if isinstance(value_type, ArrayType):
        return "list_values"  # not cached: whether a list is sent depends on its items
    kind = _kind_by_id[arrow_type.id] = KIND_OF_TYPE[value_type.name]
    return kind


def encode_column(array: pa.Array | pa.ChunkedArray, out: pb.ValueColumn, name: str) -> None:
    """Fill ``out`` with ``array``'s values; ``name`` is used in error messages."""
    if isinstance(array, pa.ChunkedArray):  # a table's column: most often one chunk
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    kind = _kind_of(array.type, name)
    if kind == "list_values":
        if array.null_count:
            out.nulls.extend(array.is_null().to_pylist())
        _encode_list(array, out, name)
        return
    target = _KINDS[kind][0]
    if array.type != target:
        try:  # timestamps truncate to microseconds; other casts must be lossless
            array = array.cast(target, safe=kind != "timestamp_values")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            msg = f"column {name!r}: cannot send {array.type} as {target}: {exc}"
            raise RequestError(msg) from None
    field = getattr(out, kind)
    if not len(array):
        field.SetInParent()  # the kind says the type of an empty column; values set it too
    repeated = field.micros if kind == "timestamp_values" else field.values
    if kind in _FIXED and len(array) > _FEW:  # many numbers: numpy beats Python lists
        mask = _null_mask(array) if array.null_count else None
        data = _numbers(array, _KINDS[kind][1])
        if mask is not None:
            out.nulls.extend(mask.tolist())
            data = np.where(mask, PLACEHOLDERS[kind], data)
        repeated.extend(data.tolist())
        return
    if kind != "timestamp_values":
        values = array.to_pylist()
    elif array.null_count:
        values = array.view(_INT64).to_pylist()
    else:  # the cheapest way to micros
        values = _numbers(array, np.int64).tolist()
    if array.null_count:
        out.nulls.extend([v is None for v in values])
        default = PLACEHOLDERS[kind]
        values = [default if v is None else v for v in values]
    repeated.extend(values)


def _null_mask(array: pa.Array) -> np.ndarray:
    """True where ``array`` is null, read from its validity bitmap."""
    bits = np.frombuffer(array.buffers()[0], np.uint8)
    valid = np.unpackbits(bits, bitorder="little", count=array.offset + len(array))
    return np.asarray(valid[array.offset :] == 0)


def _numbers(array: pa.Array, dtype: Any) -> np.ndarray:
    """A fixed-width ``array``'s values buffer as numpy (whatever null rows hold)."""
    return np.frombuffer(array.buffers()[1], dtype, array.offset + len(array))[array.offset :]


def _encode_list(array: pa.Array, out: pb.ValueColumn, name: str) -> None:
    rows = array.to_pylist()
    offsets = [0]
    items: list[Any] = []
    for row in rows:
        items.extend(row or ())
        offsets.append(len(items))
    lists = out.list_values
    lists.offsets.extend(offsets)
    item_type = array.type.value_type
    encode_column(pa.array(items, item_type), lists.items, f"{name}[]")


def decode_column(col: pb.ValueColumn, name: str) -> pa.Array:
    """The Arrow array a ``ValueColumn`` holds; malformed columns raise ``RequestError``."""
    kind = col.WhichOneof("values")
    if kind is None:
        msg = f"column {name!r} has no values set; set exactly one of the ValueColumn kinds"
        raise RequestError(msg)
    mask = np.fromiter(col.nulls, np.bool_, len(col.nulls)) if len(col.nulls) else None
    if kind == "list_values":
        return _decode_list(col.list_values, name, mask)
    arrow_type, dtype = _KINDS[kind]
    field = getattr(col, kind)
    values = field.micros if kind == "timestamp_values" else field.values
    if mask is not None and len(mask) != len(values):
        msg = f"column {name!r} has {len(values)} values but {len(mask)} null flags"
        raise RequestError(msg)
    if dtype is None or kind == "bool_values":
        return pa.array(list(values), arrow_type, mask=mask)
    data = np.fromiter(values, dtype, len(values))
    validity = None
    if mask is not None:
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    return pa.Array.from_buffers(
        arrow_type, len(data), [validity, pa.py_buffer(data)], null_count=-1
    )


def _decode_list(lists: pb.ListValues, name: str, mask: np.ndarray | None) -> pa.Array:
    items = decode_column(lists.items, f"{name}[]")
    offsets = np.fromiter(lists.offsets, np.int32, len(lists.offsets))
    if (
        len(offsets) == 0
        or offsets[0] != 0
        or offsets[-1] != len(items)
        or bool(np.any(np.diff(offsets) < 0))
    ):
        msg = (
            f"list column {name!r}: offsets must start at 0, never decrease and end at the "
            f"number of items ({len(items)})"
        )
        raise RequestError(msg)
    if mask is not None and len(mask) != len(offsets) - 1:
        msg = f"column {name!r} has {len(offsets) - 1} rows but {len(mask)} null flags"
        raise RequestError(msg)
    null_flags = pa.array(mask) if mask is not None else None
    return pa.ListArray.from_arrays(pa.array(offsets), items, mask=null_flags)


def encode_table(columns: Iterable[tuple[str, pa.Array | pa.ChunkedArray]], out: Any) -> None:
    """Append ``(name, array)`` pairs to a repeated ``NamedColumn`` field."""
    for name, array in columns:
        named = out.add()
        named.name = name
        encode_column(array, named.column, name)


def decode_table(columns: Sequence[pb.NamedColumn], what: str = "entity") -> pa.Table:
    """A table from named columns of equal length; names must be unique and non-empty."""
    return pa.table(_decode_named(columns, what, plain=False))


def decode_rows(
    columns: Sequence[pb.NamedColumn], what: str = "entity"
) -> dict[str, list[Any] | pa.Array]:
    """``decode_table``'s columns as entity rows for ``FeatureStore.get_online_features``:
    int, string and bytes columns without nulls as plain Python lists (which the store
    types itself, on its fast path), the others as Arrow arrays."""
    return _decode_named(columns, what, plain=True)


def _decode_named(
    columns: Sequence[pb.NamedColumn], what: str, *, plain: bool
) -> dict[str, list[Any] | pa.Array]:
    names = [c.name for c in columns]
    if any(not n for n in names) or len(set(names)) != len(names):
        msg = f"{what} column names must be non-empty and unique, got {names}"
        raise RequestError(msg)
    out: dict[str, list[Any] | pa.Array] = {}
    for named in columns:
        col = named.column
        kind = col.WhichOneof("values")
        if plain and kind in _PLAIN and not len(col.nulls):
            out[named.name] = list(getattr(col, kind).values)
        else:
            out[named.name] = decode_column(col, named.name)
    lengths = {n: len(v) for n, v in out.items()}
    if len(set(lengths.values())) > 1:
        msg = f"{what} columns must all have the same length, got {lengths}"
        raise RequestError(msg)
    return out


def response_to_proto(
    response: OnlineResponse, registry_version: str
) -> pb.GetOnlineFeaturesResponse:
    msg = pb.GetOnlineFeaturesResponse(registry_version=registry_version)
    entities = response.entities
    encode_table(zip(entities.column_names, entities.columns, strict=True), msg.entities)
    stamps: dict[int, pb.ValueColumn] = {}  # features of one view share one timestamp array
    statuses: dict[int, bytes] = {}  # and often one status array
    for col in response.features:
        out = msg.features.add()
        out.name = col.name
        encode_column(col.values, out.values, col.name)
        status = statuses.get(id(col.statuses))
        if status is None:
            status = statuses[id(col.statuses)] = _status_bytes(col.statuses)
        out.statuses = status
        encoded = stamps.get(id(col.event_timestamps))
        if encoded is None:
            encode_column(col.event_timestamps, out.event_timestamps, col.name)
            stamps[id(col.event_timestamps)] = out.event_timestamps
        else:
            out.event_timestamps.CopyFrom(encoded)
    return msg


def _status_bytes(statuses: pa.Array) -> bytes:
    if statuses.type != pa.uint8() or statuses.null_count:
        statuses = statuses.cast(pa.uint8()).fill_null(0)
    data = np.frombuffer(statuses.buffers()[1], np.uint8, statuses.offset + len(statuses))
    return data[statuses.offset :].tobytes()


def response_from_proto(msg: pb.GetOnlineFeaturesResponse) -> OnlineResponse:
    entities = decode_table(msg.entities)
    features = []
    last: tuple[pb.ValueColumn, pa.Array] | None = None  # a view's features share one
    statuses: dict[bytes, pa.Array] = {}  # equal status bytes share one array
    for f in msg.features:
        if last is not None and last[0] == f.event_timestamps:
            event_timestamps = last[1]
        else:
            event_timestamps = decode_column(f.event_timestamps, f.name)
            last = (f.event_timestamps, event_timestamps)
        status = statuses.get(f.statuses)
        if status is None:
            codes = np.frombuffer(f.statuses, np.uint8)
            status = pa.Array.from_buffers(pa.uint8(), len(codes), [None, pa.py_buffer(codes)])
            statuses[f.statuses] = status
        features.append(
            FeatureColumn(
                name=f.name,
                values=decode_column(f.values, f.name),
                statuses=status,
                event_timestamps=event_timestamps,
            )
        )
    return OnlineResponse(entities=entities, features=tuple(features))

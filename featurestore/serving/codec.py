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
_BY_TYPE_NAME = {
    "Bool": "bool_values",
    "Int32": "int32_values",
    "Int64": "int64_values",
    "Float32": "float_values",
    "Float64": "double_values",
    "String": "string_values",
    "Bytes": "bytes_values",
    "UnixTimestamp": "timestamp_values",
}
_DEFAULTS: dict[str, Any] = {
    "bool_values": False,
    "string_values": "",
    "bytes_values": b"",
}


def encode_column(array: pa.Array | pa.ChunkedArray, out: pb.ValueColumn, name: str) -> None:
    """Fill ``out`` with ``array``'s values; ``name`` is used in error messages."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    try:
        value_type = from_arrow(array.type)
    except DefinitionError as exc:
        msg = f"column {name!r}: {exc}; supported: bool, integers, floats, strings, "
        msg += "binary, timestamps, dates and lists of these"
        raise RequestError(msg) from None
    if array.null_count:
        out.nulls.extend(array.is_null().to_pylist())
    if isinstance(value_type, ArrayType):
        _encode_list(array, out, name)
        return
    kind = _BY_TYPE_NAME[value_type.name]
    target, _ = _KINDS[kind]
    if array.type != target:
        try:  # timestamps truncate to microseconds; other casts must be lossless
            array = array.cast(target, safe=kind != "timestamp_values")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            msg = f"column {name!r}: cannot send {array.type} as {value_type}: {exc}"
            raise RequestError(msg) from None
    if kind == "timestamp_values":
        array = array.cast(pa.int64())
    if array.null_count:
        array = array.fill_null(_DEFAULTS.get(kind, 0))
    field = getattr(out, kind)
    field.SetInParent()
    (field.micros if kind == "timestamp_values" else field.values).extend(array.to_pylist())


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
        array = _decode_list(col.list_values, name, mask)
    else:
        arrow_type, dtype = _KINDS[kind]
        field = getattr(col, kind)
        values = field.micros if kind == "timestamp_values" else field.values
        raw: Any = np.fromiter(values, dtype, len(values)) if dtype is not None else list(values)
        if mask is not None and len(mask) != len(raw):
            msg = f"column {name!r} has {len(raw)} values but {len(mask)} null flags"
            raise RequestError(msg)
        if kind == "timestamp_values":
            array = pa.array(raw, pa.int64(), mask=mask).cast(TIMESTAMP)
        else:
            array = pa.array(raw, arrow_type, mask=mask)
    return array


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
    return pa.ListArray.from_arrays(
        pa.array(offsets), items, mask=pa.array(mask) if mask is not None else None
    )


def encode_table(columns: Iterable[tuple[str, pa.Array | pa.ChunkedArray]], out: Any) -> None:
    """Append ``(name, array)`` pairs to a repeated ``NamedColumn`` field."""
    for name, array in columns:
        named = out.add()
        named.name = name
        encode_column(array, named.column, name)


def decode_table(columns: Sequence[pb.NamedColumn], what: str = "entity") -> pa.Table:
    """A table from named columns of equal length; names must be unique and non-empty."""
    names = [c.name for c in columns]
    if any(not n for n in names) or len(set(names)) != len(names):
        msg = f"{what} column names must be non-empty and unique, got {names}"
        raise RequestError(msg)
    arrays = [decode_column(c.column, c.name) for c in columns]
    lengths = {n: len(a) for n, a in zip(names, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        msg = f"{what} columns must all have the same length, got {lengths}"
        raise RequestError(msg)
    return pa.table(dict(zip(names, arrays, strict=True)))


def response_to_proto(
    response: OnlineResponse, registry_version: str
) -> pb.GetOnlineFeaturesResponse:
    msg = pb.GetOnlineFeaturesResponse(registry_version=registry_version)
    entities = response.entities
    encode_table(zip(entities.column_names, entities.columns, strict=True), msg.entities)
    for col in response.features:
        out = msg.features.add()
        out.name = col.name
        encode_column(col.values, out.values, col.name)
        statuses = col.statuses.cast(pa.uint8()).fill_null(0)
        out.statuses = statuses.to_numpy(zero_copy_only=False).tobytes()
        encode_column(col.event_timestamps.cast(TIMESTAMP), out.event_timestamps, col.name)
    return msg


def response_from_proto(msg: pb.GetOnlineFeaturesResponse) -> OnlineResponse:
    entities = decode_table(msg.entities)
    features = tuple(
        FeatureColumn(
            name=f.name,
            values=decode_column(f.values, f.name),
            statuses=pa.array(np.frombuffer(f.statuses, np.uint8)),
            event_timestamps=decode_column(f.event_timestamps, f.name),
        )
        for f in msg.features
    )
    return OnlineResponse(entities=entities, features=features)

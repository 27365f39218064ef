"""Arrow columns to and from the wire's ``ValueColumn``; ``OnlineResponse`` to and from proto.

Each Arrow type maps to one ``ValueColumn`` kind through ``featurestore.types``; narrower
integers and floats widen (int8 → Int32, uint32 → Int64), dates become timestamps.
"""

from __future__ import annotations

from array import array as stdlib_array
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import Any, TypeAlias

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
    _check_names([c.name for c in columns], what)
    out: dict[str, list[Any] | pa.Array] = {}
    for named in columns:
        col = named.column
        kind = col.WhichOneof("values")
        if plain and kind in _PLAIN and not len(col.nulls):
            out[named.name] = list(getattr(col, kind).values)
        else:
            out[named.name] = decode_column(col, named.name)
    _check_lengths({n: len(v) for n, v in out.items()}, what)
    return out


def _check_names(names: list[str], what: str) -> None:
    if any(not n for n in names) or len(set(names)) != len(names):
        msg = f"{what} column names must be non-empty and unique, got {names}"
        raise RequestError(msg)


def _check_lengths(lengths: dict[str, int], what: str) -> None:
    if len(set(lengths.values())) > 1:
        msg = f"{what} columns must all have the same length, got {lengths}"
        raise RequestError(msg)


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
    """The ``OnlineResponse`` a reply holds.

    A small reply is decoded right after the network wait, when the CPU caches are cold,
    and then the first call of each Arrow function costs ~10x the next (``pa.array`` ~30 us,
    ``Array.slice`` ~10 us, measured in the client thread). So scalar columns (entity keys,
    feature values, event times) are gathered per kind into one Python list each, laid out
    as Arrow buffers by the standard library (``array``, ``bytes``, ints as bitmaps), and
    each column is one ``Array.from_buffers`` over its kind's buffers: one Arrow function,
    where ``decode_column`` calls numpy and three or four Arrow ones per column. List
    columns and long ones (numpy reads those faster) still go through ``decode_column``.
    """
    flat = _Flat()
    names = [c.name for c in msg.entities]
    _check_names(names, "entity")
    entity_spans = [flat.add(named.column, named.name) for named in msg.entities]
    _check_lengths({n: _length(s) for n, s in zip(names, entity_spans, strict=True)}, "entity")
    spans: list[tuple[str, _Span, _Span, bytes]] = []
    last: pb.ValueColumn | None = None  # a view's features share one event-time column
    stamps: _Span = ("", 0, 0)
    for f in msg.features:
        ts = f.event_timestamps
        if last is None or ts != last:
            stamps = flat.add(ts, f.name)
            last = ts
        spans.append((f.name, flat.add(f.values, f.name), stamps, f.statuses))
    take = flat.build()
    columns = [take(s) for s in entity_spans]
    table = pa.Table.from_arrays(columns, names=names) if names else pa.table({})
    features = []
    statuses: dict[bytes, pa.Array] = {}  # equal status bytes share one array
    event_timestamps = None
    taken: _Span | None = None
    for name, values, when, codes in spans:
        status = statuses.get(codes)
        if status is None:
            status = pa.Array.from_buffers(_UINT8, len(codes), [None, pa.py_buffer(codes)], 0)
            statuses[codes] = status
        if when is not taken:  # the previous feature's span: share its array
            event_timestamps, taken = take(when), when
        features.append(FeatureColumn(name, take(values), status, event_timestamps))
    return OnlineResponse(entities=table, features=tuple(features))


_UINT8 = pa.uint8()
# Kinds a stdlib ``array`` holds as Arrow lays them out (native byte order, as Arrow's).
_TYPECODES = {
    "int32_values": "i",
    "int64_values": "q",
    "float_values": "f",
    "double_values": "d",
    "timestamp_values": "q",
}
_MANY = 512  # longer columns are decoded on their own (``decode_column``)
_OFFSETS_MAX = 2**31 - 1  # a string or binary array's int32 offsets reach this far
# Where a column's values are: (kind, start, length) in ``_Flat``'s lists, or an array.
_Span: TypeAlias = tuple[str, int, int] | pa.Array


def _length(span: _Span) -> int:
    return span[2] if isinstance(span, tuple) else len(span)


_BINARY_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _bits(flags: list[Any], start: int = 0) -> int:
    """``flags`` (bools) as the bits of an int, the first at bit ``start``."""
    return int(bytes(flags[::-1]).translate(_BINARY_DIGITS) or b"0", 2) << start


def _with_nones(flat: list[Any], marks: list[tuple[int, list[bool]]]) -> list[Any]:
    out = flat.copy()
    for start, flags in marks:
        for i, null in enumerate(flags, start):
            if null:
                out[i] = None
    return out


class _Flat:
    """Scalar columns gathered per kind into one Python list each, with their null flags."""

    __slots__ = ("lists", "nulls")

    def __init__(self) -> None:
        self.lists: dict[str, list[Any]] = {}
        self.nulls: dict[str, list[tuple[int, list[bool]]]] = {}  # kind -> (start, flags)

    def add(self, col: pb.ValueColumn, name: str) -> _Span:
        """Append ``col``'s values; list columns, long columns (and errors) go through
        ``decode_column``."""
        kind = col.WhichOneof("values")
        if kind is None or kind == "list_values":
            return decode_column(col, name)
        field = getattr(col, kind)
        repeated = field.micros if kind == "timestamp_values" else field.values
        if len(repeated) > _MANY:  # numpy reads many numbers faster than lists and array
            return decode_column(col, name)
        values = repeated[:]  # a list
        flat = self.lists.get(kind)
        if flat is None:
            start = 0
            self.lists[kind] = values
        else:
            start = len(flat)
            flat += values
        nulls = col.nulls
        if len(nulls):
            if len(nulls) != len(values):
                msg = f"column {name!r} has {len(values)} values but {len(nulls)} null flags"
                raise RequestError(msg)
            self.nulls.setdefault(kind, []).append((start, nulls[:]))
        return kind, start, len(values)

    def build(self) -> Callable[[_Span], pa.Array]:
        """A function from a span to its Arrow array (a view of its kind's buffers). A null
        row's value is the wire's placeholder, under a cleared validity bit."""
        buffers: dict[str, tuple[pa.DataType, list[pa.Buffer | None], int]] = {}
        oversized: dict[str, list[Any]] = {}  # kinds too large for int32 offsets together
        for kind, flat in self.lists.items():
            arrow_type = _KINDS[kind][0]
            size = len(flat)
            marks = self.nulls.get(kind)
            validity = None
            null_count = 0
            if marks:
                null_bits = 0
                for start, flags in marks:
                    null_bits |= _bits(flags, start)
                valid = ((1 << size) - 1) ^ null_bits
                validity = pa.py_buffer(valid.to_bytes((size + 7) // 8, "little"))
                null_count = -1  # counted when asked
            code = _TYPECODES.get(kind)
            if code is not None:
                data = [validity, pa.py_buffer(stdlib_array(code, flat))]
            elif kind == "bool_values":
                packed = _bits(flat).to_bytes((size + 7) // 8, "little")
                data = [validity, pa.py_buffer(packed)]
            else:
                if kind == "string_values":
                    text = "".join(flat)
                    joined = text.encode()
                    ascii_only = len(joined) == len(text)
                    lengths = map(len, flat if ascii_only else [v.encode() for v in flat])
                else:
                    joined = b"".join(flat)
                    lengths = map(len, flat)
                if len(joined) > _OFFSETS_MAX:  # each column on its own, as pa.array does
                    oversized[kind] = _with_nones(flat, marks or [])
                    continue
                offsets = stdlib_array("i", accumulate(lengths, initial=0))
                data = [validity, pa.py_buffer(offsets), pa.py_buffer(joined)]
            buffers[kind] = (arrow_type, data, null_count)

        def take(span: _Span) -> pa.Array:
            if not isinstance(span, tuple):
                return span
            kind, start, length = span
            if kind in oversized:
                return pa.array(oversized[kind][start : start + length], _KINDS[kind][0])
            arrow_type, data, null_count = buffers[kind]
            return pa.Array.from_buffers(arrow_type, length, data, null_count, start)

        return take

"""Entity keys as bytes, computed a column at a time.

The same function encodes keys when materializing (from Arrow batches) and when reading
(from request rows), so both always agree. One join key: its decimal digits (integers) or
its raw bytes (strings, bytes). Several join keys: the parts joined by ``:``, where each
string or bytes part is written ``<length>#<bytes>`` so no value can be mistaken for another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from featurestore.types import ValueType

SMALL = 512  # up to this many rows (an online request), keys are built in plain Python


def entity_keys(
    columns: Mapping[str, pa.Array], key_schema: Mapping[str, ValueType], num_rows: int
) -> pa.Array:
    """A binary array with one key per row (``b""`` for a view without entities)."""
    names = list(key_schema)
    if not names:
        return pa.array([b""] * num_rows, pa.binary())
    if num_rows <= SMALL:
        return pa.array(_small_keys(columns, key_schema), pa.binary())
    single = len(names) == 1
    parts = [_part(columns[k], key_schema[k], single) for k in names]
    if single:
        return parts[0]
    return pc.binary_join_element_wise(*parts, b":")


def _part(arr: pa.Array, dtype: ValueType, single: bool) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if dtype.name in {"Int32", "Int64"}:
        return arr.cast(pa.int64()).cast(pa.string()).cast(pa.binary())
    data = arr.cast(pa.binary())
    if single:
        return data
    length = pc.binary_length(data).cast(pa.string()).cast(pa.binary())
    return pc.binary_join_element_wise(length, data, b"#")


def _small_keys(
    columns: Mapping[str, pa.Array], key_schema: Mapping[str, ValueType]
) -> list[bytes]:
    """The same keys computed in Python: cheaper than Arrow kernels for a few rows."""
    return python_keys({k: columns[k].to_pylist() for k in key_schema}, key_schema)


def python_keys(
    columns: Mapping[str, Sequence[Any]], key_schema: Mapping[str, ValueType]
) -> list[bytes]:
    """Keys of rows given as Python values already checked against ``key_schema``."""
    single = len(key_schema) == 1
    parts = []
    for name, dtype in key_schema.items():
        values = columns[name]
        if dtype.name in {"Int32", "Int64"}:
            parts.append([b"%d" % v for v in values])
        else:
            raw = [v.encode() if isinstance(v, str) else v for v in values]
            parts.append(raw if single else [b"%d#%s" % (len(v), v) for v in raw])
    if single:
        return parts[0]
    return [b":".join(row) for row in zip(*parts, strict=True)]


def with_prefix(prefix: bytes, keys: pa.Array) -> list[bytes]:
    """``prefix + key`` for every key, as Python bytes for the client."""
    return [prefix + k for k in keys.to_pylist()]

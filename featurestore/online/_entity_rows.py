"""Entity rows of an online request, as validated, typed Arrow columns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from featurestore.errors import RequestError
from featurestore.types import ValueType

EntityRows = Any  # list of dicts, dict of columns, pyarrow Table, polars/pandas DataFrame


def to_columns(entity_rows: EntityRows) -> tuple[dict[str, Any], int]:
    """Column name to values, and the number of rows, from any accepted shape: a list of
    dicts, a dict of columns, a pyarrow Table, or a polars/pandas DataFrame."""
    if type(entity_rows) is dict:  # the common case, checked first: a request's fixed cost
        return _dict_columns(entity_rows)
    if isinstance(entity_rows, pa.Table):
        return {n: entity_rows.column(n) for n in entity_rows.column_names}, entity_rows.num_rows
    if type(entity_rows).__module__.split(".")[0] in {"polars", "pandas"}:
        return to_columns(as_table(entity_rows))
    if isinstance(entity_rows, Mapping):
        return _dict_columns(entity_rows)
    if isinstance(entity_rows, Sequence) and not isinstance(entity_rows, (str, bytes)):
        names: dict[str, None] = {}
        for i, row in enumerate(entity_rows):
            if not isinstance(row, Mapping):
                msg = f"entity row {i} is {type(row).__name__}; each row is a dict of key values"
                raise RequestError(msg)
            names.update(dict.fromkeys(row))
        return {n: [row.get(n) for row in entity_rows] for n in names}, len(entity_rows)
    msg = (
        f"entity_rows is {type(entity_rows).__name__}; give a list of dicts, a dict of "
        "columns, a pyarrow Table or a DataFrame"
    )
    raise RequestError(msg)


def _dict_columns(entity_rows: Mapping[Any, Any]) -> tuple[dict[str, Any], int]:
    columns = {str(k): v for k, v in entity_rows.items()}
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        msg = f"entity columns have different lengths: {lengths}; give one value per row"
        raise RequestError(msg)
    return columns, next(iter(lengths.values()), 0)


_FAST: dict[str, type] = {"Int64": int, "Int32": int, "String": str, "Bytes": bytes}
_INTS = {"Int64": np.int64, "Int32": np.int32}
_INT_RANGES = {"Int64": (-(2**63), 2**63 - 1), "Int32": (-(2**31), 2**31 - 1)}
# Arrow types accepted for each declared type (then cast, safely).
_ALLOWED: dict[str, Callable[[pa.DataType], bool]] = {
    "Int32": pa.types.is_integer,
    "Int64": pa.types.is_integer,
    "Float32": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "Float64": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "String": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "Bytes": lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t),
    "Bool": pa.types.is_boolean,
    "UnixTimestamp": pa.types.is_timestamp,
}


def as_table(frame: Any, what: str = "rows") -> pa.Table:
    """A pyarrow Table from a pyarrow Table, a polars or pandas DataFrame, a dict of columns
    or a list of row dicts; ``RequestError`` naming ``what`` when it is none of those or
    a column holds values of several types."""
    if isinstance(frame, pa.Table):
        return frame
    if type(frame).__module__.split(".")[0] == "polars":
        return frame.to_arrow()
    if type(frame).__module__.split(".")[0] == "pandas":
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(frame, (Mapping, Sequence)) and not isinstance(frame, (str, bytes)):
        columns, _ = to_columns(frame)
        try:
            return pa.table(columns)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            msg = f"{what}: cannot read it as columns of one type each ({exc})"
            raise RequestError(msg) from None
    msg = (
        f"{what} is {type(frame).__name__}; expected a pyarrow Table, a polars/pandas "
        "DataFrame, a dict of columns or a list of row dicts"
    )
    raise RequestError(msg)


def typed_column(name: str, values: Any, declared: ValueType, what: str) -> pa.Array:
    """``values`` as an Arrow array of ``declared``; ``RequestError`` naming the column when a
    value is missing or of the wrong type."""
    return as_arrow(checked_column(name, values, declared, what), declared)


def checked_column(name: str, values: Any, declared: ValueType, what: str) -> list[Any] | pa.Array:
    """``values`` checked against ``declared``: the list itself when it holds plain values
    of exactly that kind (``_plain_values``), else an Arrow array of ``declared``."""
    plain = _plain_values(name, values, declared, what)
    return plain if plain is not None else _typed_arrow(name, values, declared, what)


def as_arrow(column: list[Any] | pa.Array, declared: ValueType) -> pa.Array:
    """A ``checked_column`` as an Arrow array."""
    return _plain_to_arrow(column, declared) if isinstance(column, list) else column


def _plain_values(name: str, values: Any, declared: ValueType, what: str) -> list[Any] | None:
    """``values`` itself when it is a list of plain Python values of exactly the declared
    kind (ints within its range), which then need no Arrow at all; else None."""
    fast = _FAST.get(declared.name)
    if fast is None or not isinstance(values, list) or not all(type(v) is fast for v in values):
        return None
    bounds = _INT_RANGES.get(declared.name)
    if bounds is not None:
        low, high = bounds
        for v in values:
            if not low <= v <= high:
                msg = f"{what} {name!r}: values do not fit {declared}: {v} is out of range"
                raise RequestError(msg)
    return values


def _plain_to_arrow(values: list[Any], declared: ValueType) -> pa.Array:
    """The Arrow array of ``_plain_values``' result."""
    if declared.name in _INTS:  # through numpy: half the fixed cost of pa.array
        data = pa.py_buffer(np.array(values, dtype=_INTS[declared.name]))
        return pa.Array.from_buffers(declared.to_arrow(), len(values), [None, data])
    return pa.array(values, declared.to_arrow())


def _typed_arrow(name: str, values: Any, declared: ValueType, what: str) -> pa.Array:
    try:
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
        msg = f"{what} {name!r} must hold {declared} values: {exc}"
        raise RequestError(msg) from None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        row = arr.is_null().to_pylist().index(True)
        msg = f"{what} {name!r} is missing (null) in row {row}; every row needs a {declared}"
        raise RequestError(msg)
    actual = arr.type
    target = declared.to_arrow()
    allowed = _ALLOWED.get(declared.name, lambda t: t == target)
    if len(arr) and not allowed(actual):
        msg = f"{what} {name!r} must hold {declared} values, got {actual} ({arr[0].as_py()!r})"
        raise RequestError(msg)
    if arr.type == target:
        return arr
    try:
        return arr.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        msg = f"{what} {name!r}: values do not fit {declared}: {exc}"
        raise RequestError(msg) from None

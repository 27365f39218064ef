"""The packed value of one (view, entity): event time, created time and every feature.

One record per entity, little-endian, laid out per view::

    event_us  int64   event timestamp, microseconds since the epoch (UTC)
    created_us int64  created timestamp, or ``NO_CREATED`` (sorts lowest) when there is none
    nulls     bytes   one bit per feature (schema order), set when the value is null
    fixed     ...     Bool (1 byte), Int32/Float32 (4), Int64/Float64/UnixTimestamp (8)
    lengths   uint32  byte length of each variable-width value (String, Bytes, Array)
    payloads  bytes   the variable-width values in schema order (Array values as JSON)

Encoding and decoding work on whole columns (numpy and Arrow compute), never cell by cell,
except for Array features, which go through JSON, and for the few rows of an online
request, which decode row by row (into Arrow arrays, or into Python lists for the server).
The layout is fingerprinted (``schema_version``) and the fingerprint is part of every key,
so bytes written under one layout are never decoded with another.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import operator
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, NoReturn, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from featurestore.definitions import FeatureView
from featurestore.errors import OnlineStoreError
from featurestore.types import ArrayType, ValueType

NO_CREATED = np.iinfo(np.int64).min
TS_TYPE = pa.timestamp("us", tz="UTC")
HEADER_BYTES = 16  # event_us + created_us, read by the Redis write script
FEW = 32  # up to this many values, decode row by row in Python: fewer calls than numpy
_EVENT = struct.Struct("<q")

_FIXED: dict[str, str] = {
    "Bool": "u1",
    "Int32": "<i4",
    "Int64": "<i8",
    "Float32": "<f4",
    "Float64": "<f8",
    "UnixTimestamp": "<i8",
}
_STRUCT_CODES = {"Bool": "?", "Int32": "i", "Int64": "q", "Float32": "f", "Float64": "d"}


class Listed(NamedTuple):
    """``Decoded`` as plain Python lists, for a caller that wants Python values."""

    found: list[bool]  # per requested entity
    fresh: list[bool] | None  # event time not before ``min_event_us``; None: all are
    event_us: list[int]  # 0 where not found
    columns: dict[str, list[Any]]  # feature -> values (timestamps as int microseconds),
    # None where not found, not fresh, or null in the record


class Decoded(NamedTuple):
    """Values of one view for a list of entities (``found`` False where nothing is stored)."""

    found: np.ndarray  # bool per requested entity
    missing: int  # how many entities were not found
    event_us: np.ndarray  # int64; meaningless where not found
    columns: dict[str, pa.Array]  # feature name -> typed array, null where not found or dropped
    null_in_row: dict[str, np.ndarray]  # feature -> bool, null in a fresh, found row (if any)
    fresh: np.ndarray | None  # bool per entity: event time not before ``min_event_us``


@dataclass(frozen=True)
class _Group:
    """Fixed-width values of one width, gathered from every record in one numpy step."""

    width: int
    index: np.ndarray  # (fields, width) byte positions in the record
    names: tuple[str, ...]
    types: tuple[pa.DataType, ...]
    by_rows: dict[int, np.ndarray] = field(default_factory=dict, compare=False)

    def gather(self, rows: int, size: int) -> np.ndarray:
        """Positions in ``rows`` records of ``size`` bytes, laid out (fields, rows, width)."""
        hit = self.by_rows.get(rows)
        if hit is None:
            starts = np.arange(rows, dtype=np.intp) * size
            hit = self.index[:, None, :] + starts[None, :, None]
            if rows <= 1024 and len(self.by_rows) < 64:
                self.by_rows[rows] = hit
        return hit


@dataclass(frozen=True)
class _Run:
    """Fixed-width values of one Arrow type, copied record by record (for a few rows)."""

    kind: pa.DataType
    width: int
    names: tuple[str, ...]
    offsets: tuple[int, ...]  # each field's first byte in the record


@dataclass(frozen=True)
class _Unpack:
    """How to unpack some features of a view (cached per feature list)."""

    groups: tuple[_Group, ...]
    runs: tuple[_Run, ...]  # the same features as ``groups``, by type
    bools: tuple[tuple[str, int], ...]  # (name, byte position in the record)
    var: frozenset[str]
    positions: tuple[tuple[str, int], ...]  # (name, null bit) of every wanted feature
    # for ``decode_lists``: (name, null bit, index in the unpacked head or -1 - index of a
    # variable-width value, what turns that value's bytes into its Python value)
    items: tuple[tuple[str, int, int, Callable[[bytes], Any] | None], ...]


class ViewCodec:
    """Packs and unpacks the features of one feature view."""

    def __init__(self, view: FeatureView) -> None:
        self.view = view
        self.fields = view.schema
        self.fixed = [
            f for f in view.schema if not isinstance(f.dtype, ArrayType) and f.dtype.name in _FIXED
        ]
        self.var = [f for f in view.schema if f not in self.fixed]
        null_bytes = (len(self.fields) + 7) // 8
        spec: list[tuple[str, str] | tuple[str, str, tuple[int]]] = [
            ("__event", "<i8"),
            ("__created", "<i8"),
            ("__nulls", "u1", (null_bytes,)),
        ]
        spec += [(f"f_{f.name}", _FIXED[f.dtype.name]) for f in self.fixed]
        spec += [(f"l_{f.name}", "<u4") for f in self.var]
        self.dtype = np.dtype(spec)  # packed: numpy does not align unless asked
        self.positions = {f.name: i for i, f in enumerate(self.fields)}
        self.types = {f.name: f.dtype for f in self.fields}
        self._var_names = {f.name for f in self.var}
        self._offsets = {name: spec[1] for name, spec in (self.dtype.fields or {}).items()}
        self._null_bytes = null_bytes
        self._var_index = {f.name: j for j, f in enumerate(self.var)}
        self._lengths = struct.Struct("<" + "I" * len(self.var))
        self._lengths_at = self._offsets[f"l_{self.var[0].name}"] if self.var else 0
        # the fixed-width part of a record, as one struct: event, created, null bits,
        # fixed values (schema order), lengths of the variable-width values
        codes = "".join(_STRUCT_CODES.get(f.dtype.name, "q") for f in self.fixed)
        self._head = struct.Struct(f"<qq{null_bytes}s{codes}{'I' * len(self.var)}")
        self._blank = bytes(self._head.size)  # what a missing row decodes from
        self._unpacks: dict[tuple[str, ...], _Unpack] = {}

    @cached_property
    def schema_version(self) -> str:
        """A short fingerprint of everything that decides the bytes: keys, features, types."""
        keys = [f"{k}:{t}" for k, t in self.view.key_schema.items()]
        feats = [f"{f.name}:{f.dtype}" for f in self.fields]
        text = json.dumps({"codec": 1, "keys": keys, "features": feats})
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    # --- encoding -------------------------------------------------------------------------

    def encode(
        self, columns: dict[str, pa.Array], event_us: np.ndarray, created_us: np.ndarray
    ) -> pa.BinaryArray:
        """One packed record per row; ``columns`` hold every feature of the view."""
        n = len(event_us)
        rec = np.zeros(n, dtype=self.dtype)
        rec["__event"] = event_us
        rec["__created"] = created_us
        nulls = np.zeros((n, len(self.fields)), dtype=bool)
        for i, f in enumerate(self.fields):
            nulls[:, i] = _null_mask(columns[f.name])
        rec["__nulls"] = np.packbits(nulls, axis=1, bitorder="little")
        for f in self.fixed:
            rec[f"f_{f.name}"] = _fixed_numpy(columns[f.name], f.dtype)
        payloads = []
        for f in self.var:
            data = _var_binary(columns[f.name], f.dtype)
            rec[f"l_{f.name}"] = pc.binary_length(data).to_numpy(zero_copy_only=False)
            payloads.append(data)
        head = pa.Array.from_buffers(
            pa.binary(self.dtype.itemsize), n, [None, pa.py_buffer(rec)]
        ).cast(pa.binary())
        if not payloads:
            return head
        return pc.binary_join_element_wise(head, *payloads, b"")

    # --- decoding -------------------------------------------------------------------------

    def decode(
        self,
        values: Sequence[bytes | None],
        features: Sequence[str],
        min_event_us: int | None = None,
    ) -> Decoded:
        """Unpack stored values (None where missing) into columns of ``features``; values
        with an event time before ``min_event_us`` (expired) come back null too."""
        plan = self._unpack(tuple(features))
        if len(values) <= FEW:
            return self._decode_few(values, features, plan, min_event_us)
        return self._decode_bulk(values, features, plan, min_event_us)

    def _decode_bulk(
        self,
        values: Sequence[bytes | None],
        features: Sequence[str],
        plan: _Unpack,
        min_event_us: int | None,
    ) -> Decoded:
        """``decode`` a column at a time in numpy: cheap per row, ~25 numpy and Arrow calls."""
        n = len(values)
        size = self.dtype.itemsize
        all_found = None not in values
        present = values if all_found else [v for v in values if v is not None]
        if self.var:
            head = b"".join([v[:size] for v in present])  # type: ignore[index]
            tails = b"".join([v[size:] for v in present])  # type: ignore[index]
        else:
            head, tails = b"".join(present), b""  # type: ignore[arg-type]
        if len(head) != size * len(present):
            self._mismatch()
        raw = np.frombuffer(head, dtype=np.uint8).reshape(len(present), size)
        if all_found:
            found = _all_true(n)
        else:
            found = np.fromiter((v is not None for v in values), dtype=bool, count=n)
            full = np.zeros((n, size), dtype=np.uint8)
            full[found] = raw
            raw = full
        if self.var:  # the variable-width values must fill the rest exactly
            at = self._lengths_at
            lengths = raw[:, at : at + 4 * len(self.var)].copy().view("<u4")
            if len(tails) != int(lengths.sum()):
                self._mismatch()
        event = np.ndarray((n,), "<i8", raw.data, 0, (size,)).copy()  # each record's first 8
        fresh = None
        # min() of a list: a request's few rows cost less than numpy's reduce machinery
        if min_event_us is not None and n and min(event.tolist()) < min_event_us:
            fresh = event >= min_event_us
        rows = found if fresh is None else found & fresh
        all_rows = all_found and fresh is None
        null_bytes = raw[:, HEADER_BYTES : HEADER_BYTES + (len(self.fields) + 7) // 8]
        nulls = None  # (rows, fields) bool: value null in the record; None when none is
        if np.count_nonzero(null_bytes):
            per_field = np.unpackbits(null_bytes, axis=1, bitorder="little", count=len(self.fields))
            nulls = per_field.astype(bool)
        masks: dict[str, tuple[pa.Buffer | None, int]] = {}  # validity; absent: all valid
        null_in_row: dict[str, np.ndarray] = {}
        for name, j in plan.positions if nulls is not None or not all_rows else ():
            if nulls is not None and nulls[:, j].any():
                null = nulls[:, j] & rows
                if null.any():
                    null_in_row[name] = null
                valid = rows & ~nulls[:, j]
            elif all_rows:
                continue
            else:
                valid = rows
            missing = n - int(np.count_nonzero(valid))
            if missing:
                masks[name] = (pa.py_buffer(np.packbits(valid, bitorder="little")), missing)
        columns: dict[str, pa.Array] = {}
        flat = raw.reshape(-1)
        for g in plan.groups:
            block = flat.take(g.gather(n, size))  # (fields, rows, width), one copy
            buf = pa.py_buffer(block)
            whole: dict[int, pa.Array] = {}  # the block as one array per type, to slice
            for k, (name, kind) in enumerate(zip(g.names, g.types, strict=True)):
                bits, missing = masks.get(name, _VALID)
                if bits is None:  # a slice of the block (cheaper than an array per column)
                    if id(kind) not in whole:
                        size_all = len(g.names) * n
                        whole[id(kind)] = pa.Array.from_buffers(kind, size_all, [None, buf])
                    columns[name] = whole[id(kind)].slice(k * n, n)
                else:  # the validity bitmap would be offset too: slice the data instead
                    data = buf.slice(k * n * g.width, n * g.width)
                    columns[name] = pa.Array.from_buffers(kind, n, [bits, data], missing)
        for name, at in plan.bools:
            bits, missing = masks.get(name, _VALID)
            data = pa.py_buffer(np.packbits(raw[:, at].astype(bool), bitorder="little"))
            columns[name] = pa.Array.from_buffers(pa.bool_(), n, [bits, data], null_count=missing)
        if plan.var:
            nulls_all = np.zeros((n, len(self.fields)), bool) if nulls is None else nulls
            nulls_all = nulls_all | ~rows[:, None]
            rec = np.frombuffer(np.ascontiguousarray(raw), dtype=self.dtype)
            columns.update(self._var_columns(rec, tails, nulls_all, set(plan.var)))
        return Decoded(
            found=found,
            missing=n - len(present),
            event_us=event,
            columns={name: columns[name] for name in features},
            null_in_row=null_in_row,
            fresh=fresh,
        )

    def _decode_few(
        self,
        values: Sequence[bytes | None],
        features: Sequence[str],
        plan: _Unpack,
        min_event_us: int | None,
    ) -> Decoded:
        """``decode`` a row at a time in plain Python: for the few rows of a typical online
        request this costs a fraction of the numpy steps, which are priced per call."""
        n = len(values)
        size = self.dtype.itemsize
        nulls = [0] * n  # per row: its record's null bits, one per feature in schema order
        events = [0] * n
        tails: list[tuple[int, ...]] = [()] * n  # per row: where each variable value starts
        for i, v in enumerate(values):
            if v is None:
                continue
            if len(v) < size:
                self._mismatch()
            events[i] = _EVENT.unpack_from(v)[0]
            nulls[i] = int.from_bytes(v[HEADER_BYTES : HEADER_BYTES + self._null_bytes], "little")
            lengths = self._lengths.unpack_from(v, self._lengths_at) if self.var else ()
            if len(v) != size + sum(lengths):
                self._mismatch()
            starts, at = [], size
            for length in lengths:
                starts.append(at)
                at += length
            tails[i] = (*starts, at)
        missing = values.count(None)
        fresh = None
        if min_event_us is not None and n and min(events) < min_event_us:
            fresh = [e >= min_event_us for e in events]
        found = [v is not None for v in values]
        kept = found  # found and fresh
        if fresh is not None:
            kept = [k and f for k, f in zip(found, fresh, strict=True)]
        columns: dict[str, pa.Array] = {}
        masks: dict[str, tuple[pa.Buffer | None, int]] = {}  # validity; absent: all valid
        null_in_row: dict[str, np.ndarray] = {}
        valid_rows: dict[str, list[bool]] = {}  # feature: row holds a value; absent: kept
        for name, j in plan.positions if any(nulls) or not all(kept) else ():
            bit = 1 << j
            null = [k and bool(word & bit) for k, word in zip(kept, nulls, strict=True)]
            if any(null):
                null_in_row[name] = np.array(null, dtype=bool)
            valid = [k and not x for k, x in zip(kept, null, strict=True)]
            valid_rows[name] = valid
            count = n - sum(valid)
            if count:
                masks[name] = (pa.py_buffer(_bitmap(valid)), count)
        for run in plan.runs:
            w, names = run.width, run.names
            if missing:
                blank = bytes(w)
                parts = [
                    blank if v is None else v[at : at + w] for at in run.offsets for v in values
                ]
            else:
                parts = [v[at : at + w] for at in run.offsets for v in values]  # type: ignore[index]
            buf = pa.py_buffer(b"".join(parts))
            if not masks and len(names) > 1:  # one array of them all, sliced per feature
                whole = pa.Array.from_buffers(run.kind, len(names) * n, [None, buf])
                for k, name in enumerate(names):
                    columns[name] = whole.slice(k * n, n)
                continue
            for k, name in enumerate(names):
                bits, count = masks.get(name, _VALID)
                part = buf.slice(k * n * w, n * w) if k else buf
                columns[name] = pa.Array.from_buffers(run.kind, n, [bits, part], count)
        for name, at in plan.bools:
            bits, count = masks.get(name, _VALID)
            data = pa.py_buffer(_bitmap([v is not None and v[at] != 0 for v in values]))
            columns[name] = pa.Array.from_buffers(pa.bool_(), n, [bits, data], null_count=count)
        for f in self.var:
            if f.name not in plan.var:
                continue
            j = self._var_index[f.name]
            bits, count = masks.get(f.name, _VALID)
            ok = valid_rows.get(f.name, kept)
            parts = [
                v[t[j] : t[j + 1]] if good else b""  # type: ignore[index]
                for v, t, good in zip(values, tails, ok, strict=True)
            ]
            columns[f.name] = _var_arrow_few(parts, ok, bits, count, f.dtype)
        return Decoded(
            found=_all_true(n) if not missing else np.array(found, dtype=bool),
            missing=missing,
            event_us=np.array(events, dtype=np.int64),
            columns={name: columns[name] for name in features},
            null_in_row=null_in_row,
            fresh=None if fresh is None else np.array(fresh, dtype=bool),
        )

    def decode_lists(
        self,
        values: Sequence[bytes | None],
        features: Sequence[str],
        min_event_us: int | None = None,
    ) -> Listed:
        """``decode`` into Python lists, a row at a time (for a few hundred rows or fewer:
        the cost is per value)."""
        plan = self._unpack(tuple(features))
        if not values:
            return Listed([], None, [], {name: [] for name, *_ in plan.items})
        size = self._head.size
        filled = cast("Sequence[bytes]", values)
        found = [True] * len(values)
        if None in values:  # a missing row reads as a blank record, then its values drop
            found = [v is not None for v in values]
            filled = [self._blank if v is None else v for v in values]
        try:  # one tuple per field: the heads unpacked, then transposed
            fields = list(zip(*map(self._head.unpack_from, filled), strict=True))
        except struct.error:
            self._mismatch()
        bounds = []  # per variable-width value: where it starts and ends in each record
        end = [size] * len(values)
        for length in fields[3 + len(self.fixed) :]:
            start, end = end, list(map(operator.add, end, length))
            bounds.append((start, end))
        if list(map(len, filled)) != end:  # the last value must end where the record does
            self._mismatch()
        events = list(fields[0])
        fresh = None
        if min_event_us is not None and min(events) < min_event_us:
            fresh = [e >= min_event_us for e in events]
        kept = found if fresh is None else list(map(operator.and_, found, fresh))
        dropped = None if all(kept) else [not k for k in kept]  # same for every feature
        nulls = fields[2]
        words = None  # per row: its null bits as an int, when some row has one
        if nulls.count(bytes(self._null_bytes)) != len(nulls):
            words = [int.from_bytes(b, "little") for b in nulls]
        columns: dict[str, list[Any]] = {}
        for name, bit, at, convert in plan.items:
            if at >= 0:
                column: Sequence[Any] = fields[at]
            else:
                start, end = bounds[-1 - at]
                column = list(map(operator.getitem, filled, map(slice, start, end)))
            drop = dropped
            if words is not None:
                mask = 1 << bit
                drop = [not k or bool(w & mask) for k, w in zip(kept, words, strict=True)]
            if drop is None or not any(drop):
                columns[name] = list(column) if convert is None else list(map(convert, column))
            else:
                columns[name] = [
                    None if d else x if convert is None else convert(x)
                    for x, d in zip(column, drop, strict=True)
                ]
        return Listed(found=found, fresh=fresh, event_us=events, columns=columns)

    def _mismatch(self) -> NoReturn:
        msg = (
            f"online value of view {self.view.name!r} does not match its schema "
            f"version {self.schema_version}; rematerialize the view"
        )
        raise OnlineStoreError(msg)

    def _unpack(self, features: tuple[str, ...]) -> _Unpack:
        hit = self._unpacks.get(features)
        if hit is not None:
            return hit
        unknown = [f for f in features if f not in self.positions]
        if unknown:
            msg = f"view {self.view.name!r} has no feature(s) {unknown}"
            raise OnlineStoreError(msg)
        by_width: dict[int, list[tuple[str, int, pa.DataType]]] = {}
        bools = []
        for name in features:
            if name in self._var_names:
                continue
            dtype = self.types[name]
            at = self._offsets[f"f_{name}"]
            if dtype.name == "Bool":
                bools.append((name, at))
                continue
            kind = TS_TYPE if dtype.name == "UnixTimestamp" else dtype.to_arrow()
            width = np.dtype(_FIXED[dtype.name]).itemsize
            by_width.setdefault(width, []).append((name, at, kind))
        groups = tuple(
            _Group(
                width=w,
                index=np.array([range(at, at + w) for _, at, _ in items], dtype=np.intp),
                names=tuple(name for name, _, _ in items),
                types=tuple(kind for _, _, kind in items),
            )
            for w, items in by_width.items()
        )
        by_kind: dict[pa.DataType, list[tuple[str, int, int]]] = {}
        for w, items in by_width.items():
            for name, at, kind in items:
                by_kind.setdefault(kind, []).append((name, at, w))
        runs = tuple(
            _Run(
                kind=kind,
                width=items[0][2],
                names=tuple(name for name, _, _ in items),
                offsets=tuple(at for _, at, _ in items),
            )
            for kind, items in by_kind.items()
        )
        fixed_at = {f.name: 3 + i for i, f in enumerate(self.fixed)}
        listed = tuple(
            (
                name,
                self.positions[name],
                fixed_at.get(name, -1 - self._var_index.get(name, 0)),
                _from_bytes(self.types[name]),
            )
            for name in dict.fromkeys(features)
        )
        plan = _Unpack(
            groups=groups,
            runs=runs,
            bools=tuple(bools),
            var=frozenset(f for f in features if f in self._var_names),
            positions=tuple((f, self.positions[f]) for f in dict.fromkeys(features)),
            items=listed,
        )
        if len(self._unpacks) < 256:
            self._unpacks[features] = plan
        return plan

    def _var_columns(
        self,
        rec: np.ndarray,
        tails: bytes,
        nulls: np.ndarray,
        wanted: set[str],
    ) -> dict[str, pa.Array]:
        if not self.var or not (wanted & {f.name for f in self.var}):
            return {}
        lengths = np.stack([rec[f"l_{f.name}"].astype(np.int64) for f in self.var], axis=1)
        totals = lengths.sum(axis=1)
        record_starts = np.concatenate([[0], np.cumsum(totals)[:-1]]).astype(np.int64)
        field_offsets = np.cumsum(lengths, axis=1) - lengths  # within each record's tail
        raw = np.frombuffer(tails, dtype=np.uint8)
        out: dict[str, pa.Array] = {}
        for j, f in enumerate(self.var):
            if f.name not in wanted:
                continue
            lens = lengths[:, j]
            starts = record_starts + field_offsets[:, j]
            offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
            if len(self.var) == 1:
                data = raw
            else:
                within = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], lens)
                data = raw[np.repeat(starts, lens) + within]
            null = nulls[:, self.positions[f.name]]
            out[f.name] = _var_arrow(data, offsets, null, f.dtype)
        return out


# --- column helpers --------------------------------------------------------------------------

_VALID: tuple[None, int] = (None, 0)  # no validity bitmap, no nulls

_TRUE: dict[int, np.ndarray] = {}


def _all_true(n: int) -> np.ndarray:
    """A read-only all-True mask of ``n`` rows, shared (requests often have the same size)."""
    mask = _TRUE.get(n)
    if mask is None:
        mask = np.ones(n, dtype=bool)
        mask.flags.writeable = False
        if n <= 1024:
            _TRUE[n] = mask
    return mask


def _bitmap(flags: list[bool]) -> bytes:
    """An Arrow bitmap (least significant bit first) of ``flags``."""
    word = 0
    for i, flag in enumerate(flags):
        if flag:
            word |= 1 << i
    return word.to_bytes((len(flags) + 7) // 8, "little")


def _var_arrow_few(
    parts: list[bytes], valid: list[bool], bits: pa.Buffer | None, nulls: int, dtype: ValueType
) -> pa.Array:
    """A String, Bytes or Array column from each row's stored bytes (empty where null)."""
    if isinstance(dtype, ArrayType):
        items = [_from_json(p, dtype) if ok else None for p, ok in zip(parts, valid, strict=True)]
        return pa.array(items, dtype.to_arrow())
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    buffers = [
        bits,
        pa.py_buffer(struct.pack(f"<{len(offsets)}i", *offsets)),
        pa.py_buffer(b"".join(parts)),
    ]
    kind = pa.string() if dtype.name == "String" else pa.binary()
    return pa.Array.from_buffers(kind, len(parts), buffers, null_count=nulls)


def _from_bytes(dtype: ValueType) -> Callable[[bytes], Any] | None:
    """What turns a variable-width value's stored bytes into its Python value."""
    if isinstance(dtype, ArrayType):
        return functools.partial(_from_json, dtype=dtype)
    return bytes.decode if dtype.name == "String" else None


def _null_mask(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.zeros(len(arr), dtype=bool)
    return arr.is_null().to_numpy(zero_copy_only=False)


def _fixed_numpy(arr: pa.Array, dtype: ValueType) -> np.ndarray:
    if dtype.name == "UnixTimestamp":
        arr = arr.cast(TS_TYPE).cast(pa.int64())
    elif dtype.name == "Bool":
        return arr.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8)
    if arr.null_count:  # else the values are read in place, without a copy
        arr = arr.fill_null(0)
    return arr.to_numpy(zero_copy_only=False)


def _var_binary(arr: pa.Array, dtype: ValueType) -> pa.Array:
    if isinstance(dtype, ArrayType):
        return pa.array([_json_list(v, dtype) for v in arr.to_pylist()], pa.binary())
    if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.string())
    elif pa.types.is_large_binary(arr.type) or pa.types.is_binary_view(arr.type):
        arr = arr.cast(pa.binary())
    fill = "" if pa.types.is_string(arr.type) else b""
    return arr.fill_null(fill).cast(pa.binary())


def _var_arrow(
    data: np.ndarray, offsets: np.ndarray, null: np.ndarray, dtype: ValueType
) -> pa.Array:
    n = len(offsets) - 1
    validity = pa.py_buffer(np.packbits(~null, bitorder="little")) if null.any() else None
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    if isinstance(dtype, ArrayType):
        raw = pa.Array.from_buffers(pa.binary(), n, buffers, null_count=int(null.sum()))
        items = [None if v is None else _from_json(v, dtype) for v in raw.to_pylist()]
        return pa.array(items, dtype.to_arrow())
    kind = pa.string() if dtype.name == "String" else pa.binary()
    return pa.Array.from_buffers(kind, n, buffers, null_count=int(null.sum()))


def _json_list(value: list[Any] | None, dtype: ArrayType) -> bytes:
    if value is None:
        return b""
    element = dtype.element.name
    if element == "Bytes":
        value = [None if v is None else base64.b64encode(v).decode() for v in value]
    elif element == "UnixTimestamp":
        value = [None if v is None else _to_us(v) for v in value]
    return json.dumps(value, separators=(",", ":")).encode()


def _from_json(raw: bytes, dtype: ArrayType) -> list[Any]:
    value = json.loads(raw)
    element = dtype.element.name
    if element == "Bytes":
        return [None if v is None else base64.b64decode(v) for v in value]
    if element == "UnixTimestamp":
        return [None if v is None else _from_us(v) for v in value]
    return value


def _to_us(value: Any) -> int:
    return int(pa.scalar(value, TS_TYPE).cast(pa.int64()).as_py())


def _from_us(value: int) -> Any:
    return pa.scalar(value, pa.int64()).cast(TS_TYPE).as_py()

"""Online reads: the latest values of some features for some entity rows.

Two steps: ``read_stored`` checks the request and reads every view involved in one round
trip to the store; ``respond`` decodes the values into Arrow columns (the server's
``serving/lookup.py`` decodes them into its message instead). Values older than their
view's ttl come back null with status EXPIRED. On-demand views are computed from the values
read and the request fields in ``entity_rows``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa

from featurestore.definitions import FeatureService, FeatureView, OnDemandFeatureView
from featurestore.definitions.collection import Definitions, FeatureSelection
from featurestore.errors import RequestError
from featurestore.online._codec import TS_TYPE, ViewCodec
from featurestore.online._entity_rows import (
    EntityRows,
    as_arrow,
    checked_column,
    to_columns,
)
from featurestore.online._keys import SMALL, entity_keys, python_keys
from featurestore.online._pack import codec_for
from featurestore.online.base import ReadRequest
from featurestore.online.response import FeatureColumn, FeatureStatus, OnlineResponse
from featurestore.types import ArrayType, ValueType

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

_PRESENT, _NULL, _NOT_FOUND, _EXPIRED = (int(s) for s in FeatureStatus)


@dataclass
class ViewRead:
    """What one feature view contributes: its requested features and those on-demand views
    need."""

    view: FeatureView
    features: dict[str, None] = field(default_factory=dict)
    codec: ViewCodec | None = None
    wanted: tuple[str, ...] = ()  # the features above, in order
    ttl_us: int | None = None
    key_schema: dict[str, ValueType] = field(default_factory=dict)  # the view's join keys
    key_names: tuple[str, ...] = ()  # "key:type" of each, which decide its entity keys


@dataclass(frozen=True)
class Plan:
    """What a request for some features needs: views to read, key columns, request fields,
    and each output column as (view read or on-demand selection, feature, output name)."""

    selections: list[FeatureSelection]
    reads: list[ViewRead]
    key_schema: dict[str, ValueType]
    request_schema: dict[str, ValueType]
    outputs: list[tuple[int, str, str]]  # (index in reads, feature, output name)
    on_demand: list[tuple[int, FeatureSelection]]  # (position in outputs, selection)
    full_names: bool  # output names are "view__feature"
    scalar: bool  # no on-demand views, no Array features: every output is a stored scalar


_PLANS: dict[tuple[Any, ...], tuple[Definitions, Plan]] = {}
# A request's key column: plain Python values of its type (a few rows), or an Arrow array.
KeyColumn: TypeAlias = "pa.Array | list[Any]"


@dataclass(frozen=True)
class StoredRows:
    """What the store holds for a request, not yet decoded: the plan, the typed entity keys
    and request fields, and each view read's stored values (None where absent)."""

    plan: Plan
    keys: dict[str, KeyColumn]  # in the plan's key schema order
    request: dict[str, pa.Array]
    num_rows: int
    stored: list[list[bytes | None]]
    now_us: int  # when the values were read, for the ttl


def get_online_features(
    store: FeatureStore,
    features: Iterable[str] | FeatureService | str,
    entity_rows: EntityRows,
    *,
    full_feature_names: bool = False,
) -> OnlineResponse:
    """Latest values for ``entity_rows`` (list of dicts, dict of columns, or a table)."""
    return respond(read_stored(store, features, entity_rows, full_feature_names))


def read_stored(
    store: FeatureStore,
    features: Iterable[str] | FeatureService | str,
    entity_rows: EntityRows,
    full_feature_names: bool,
) -> StoredRows:
    """Check the request and read what the store holds for it, in one round trip."""
    plan = _plan(store.definitions(), features, full_feature_names)
    columns, num_rows = to_columns(entity_rows)
    keys: dict[str, KeyColumn] = {}
    for k, t in plan.key_schema.items():
        column = _required(columns, k, t, "entity key")
        keys[k] = as_arrow(column, t) if num_rows > SMALL else column  # many rows: Arrow
    request = {
        k: as_arrow(_required(columns, k, t, "request field"), t)
        for k, t in plan.request_schema.items()
    }
    encoded: dict[tuple[str, ...], Any] = {}  # entity keys per join-key set, built once
    requests = []
    for r in plan.reads:
        ids = encoded.get(r.key_names)
        if ids is None:
            ids = encoded[r.key_names] = _encode_keys(keys, r.key_schema, num_rows)
        requests.append(ReadRequest(r.view, ids))
    stored = store.online_store.read(requests)
    return StoredRows(plan, keys, request, num_rows, stored, time.time_ns() // 1000)


def respond(rows: StoredRows) -> OnlineResponse:
    """Decode what ``read_stored`` read into the response: values, statuses, event times,
    and the on-demand features computed from them."""
    plan, num_rows = rows.plan, rows.num_rows
    decoded = [
        _view_columns(r, stored, rows.now_us)
        for r, stored in zip(plan.reads, rows.stored, strict=True)
    ]
    out = [FeatureColumn(name, *decoded[i][f]) for i, f, name in plan.outputs]
    if plan.on_demand:
        values = {
            (r.view.name, f): FeatureColumn(f, *cols[f])
            for r, cols in zip(plan.reads, decoded, strict=True)
            for f in cols
        }
        for at, sel in reversed(plan.on_demand):
            assert isinstance(sel.view, OnDemandFeatureView)
            cols = _on_demand(sel.view, sel.features, values, rows.request, num_rows)
            if plan.full_names:
                cols = [FeatureColumn(f"{sel.view.name}__{c.name}", *_parts(c)) for c in cols]
            out[at:at] = cols
    if rows.keys:
        arrays = [as_arrow(column, plan.key_schema[k]) for k, column in rows.keys.items()]
        entities = pa.Table.from_arrays(arrays, names=list(rows.keys))
    else:
        entities = _empty(num_rows)
    return OnlineResponse(entities=entities, features=tuple(out))


def _parts(col: FeatureColumn) -> tuple[pa.Array, pa.Array, pa.Array]:
    return col.values, col.statuses, col.event_timestamps


def _encode_keys(
    keys: Mapping[str, KeyColumn], schema: Mapping[str, ValueType], num_rows: int
) -> list[bytes] | pa.Array:
    """A view's entity keys (``schema``: its join keys): from the request's own Python
    values when it has them (a few rows), else a column at a time in Arrow."""
    if schema and all(isinstance(keys[k], list) for k in schema):
        return python_keys({k: keys[k] for k in schema}, schema)
    return entity_keys({k: as_arrow(keys[k], t) for k, t in schema.items()}, schema, num_rows)


def _plan(
    defs: Definitions, features: Iterable[str] | FeatureService | str, full_names: bool
) -> Plan:
    """The request plan, cached per registry version (definitions objects are cached per
    version, so identity is a safe key) and feature list."""
    wanted = features if isinstance(features, (str, FeatureService)) else tuple(features)
    key = (id(defs), wanted, full_names)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is defs:
        return hit[1]
    selections = defs.select(wanted)
    _check_unique(selections, full_names)
    reads: dict[str, ViewRead] = {}
    request_schema: dict[str, ValueType] = {}
    for sel in selections:
        if isinstance(sel.view, FeatureView):
            reads.setdefault(sel.view.name, ViewRead(sel.view)).features.update(
                dict.fromkeys(sel.features)
            )
        else:
            for src in sel.view.source_views:
                reads.setdefault(src.name, ViewRead(src)).features.update(
                    dict.fromkeys(src.feature_names)
                )
            for req in sel.view.request_sources:
                request_schema.update({f.name: f.dtype for f in req.schema})
    key_schema: dict[str, ValueType] = {}
    for r in reads.values():
        r.key_schema = r.view.key_schema
        key_schema.update(r.key_schema)
        r.codec = codec_for(r.view)
        r.wanted = tuple(r.features)
        r.ttl_us = None if r.view.ttl is None else r.view.ttl // timedelta(microseconds=1)
        r.key_names = tuple(f"{k}:{t}" for k, t in r.key_schema.items())
    index = {name: i for i, name in enumerate(reads)}
    outputs: list[tuple[int, str, str]] = []
    on_demand: list[tuple[int, FeatureSelection]] = []
    for sel in selections:
        if not isinstance(sel.view, FeatureView):
            on_demand.append((len(outputs), sel))
            continue
        for f in sel.features:
            name = f"{sel.view.name}__{f}" if full_names else f
            outputs.append((index[sel.view.name], f, name))
    scalar = not on_demand and not any(
        isinstance(r.view.field(f).dtype, ArrayType) for r in reads.values() for f in r.wanted
    )
    plan = Plan(
        selections,
        list(reads.values()),
        key_schema,
        request_schema,
        outputs,
        on_demand,
        full_names,
        scalar,
    )
    if len(_PLANS) > 1024:
        _PLANS.clear()
    _PLANS[key] = (defs, plan)
    return plan


def _required(columns: Mapping[str, Any], name: str, dtype: ValueType, what: str) -> KeyColumn:
    """The column ``name``: its own Python values when they are plain values of ``dtype``,
    else an Arrow array of ``dtype`` (``checked_column``)."""
    if name not in columns:
        msg = f"entity_rows lack the {what} {name!r} ({dtype}); they have {sorted(columns)}"
        raise RequestError(msg)
    return checked_column(name, columns[name], dtype, what)


_Cols = dict[str, tuple[pa.Array, pa.Array, pa.Array]]  # feature: values, statuses, times


def _view_columns(read: ViewRead, stored: list[bytes | None], now_us: int) -> _Cols:
    """Every wanted feature of one view: values (null unless PRESENT), statuses, event
    times."""
    assert read.codec is not None
    n = len(stored)
    oldest = None if read.ttl_us is None else now_us - read.ttl_us
    decoded = read.codec.decode(stored, read.wanted, min_event_us=oldest)
    found, fresh, missing = decoded.found, decoded.fresh, decoded.missing
    all_found = not missing
    validity = None if all_found else pa.py_buffer(np.packbits(found, bitorder="little"))
    event_ts = pa.Array.from_buffers(
        TS_TYPE, n, [validity, pa.py_buffer(decoded.event_us)], null_count=missing
    )
    if all_found and fresh is None:
        base, base_statuses = _all_present(n)  # nulls below may still make some NULL
    else:
        if fresh is None:
            base = np.where(found, _PRESENT, _NOT_FOUND).astype(np.uint8)
        else:
            codes = np.where(fresh, _PRESENT, _EXPIRED)
            base = np.where(found, codes, _NOT_FOUND).astype(np.uint8)
        base_statuses = _uint8(base)
    if not decoded.null_in_row:
        return {name: (vals, base_statuses, event_ts) for name, vals in decoded.columns.items()}
    out: _Cols = {}
    for name, vals in decoded.columns.items():
        null = decoded.null_in_row.get(name)
        statuses = base_statuses if null is None else _uint8(np.where(null, _NULL, base))
        out[name] = (vals, statuses, event_ts)
    return out


def _on_demand(
    odfv: OnDemandFeatureView,
    features: tuple[str, ...],
    values: Mapping[tuple[str, str], FeatureColumn],
    request: Mapping[str, pa.Array],
    num_rows: int,
) -> list[FeatureColumn]:
    inputs: dict[str, pa.Array] = {}
    for src in odfv.source_views:
        for name in src.feature_names:
            inputs[name] = values[(src.name, name)].values
    for req in odfv.request_sources:
        for fld in req.schema:
            inputs[fld.name] = request[fld.name]
    frame = pl.from_arrow(pa.table(inputs)) if inputs else pl.DataFrame(height=num_rows)
    assert isinstance(frame, pl.DataFrame)
    computed = odfv.compute(frame).to_arrow()
    no_time = pa.nulls(num_rows, TS_TYPE)
    cols = []
    for name in features:
        col = computed.column(name).combine_chunks().cast(_odfv_type(odfv, name))
        nulls = col.is_null().to_numpy(zero_copy_only=False)
        status = np.where(nulls, _NULL, _PRESENT).astype(np.uint8)
        cols.append(FeatureColumn(name, col, _uint8(status), no_time))
    return cols


def _odfv_type(odfv: OnDemandFeatureView, name: str) -> pa.DataType:
    return next(f.dtype.to_arrow() for f in odfv.schema if f.name == name)


def _check_unique(selections: list[Any], full_feature_names: bool) -> None:
    owners: dict[str, str] = {}
    for sel in selections:
        for f in sel.features:
            name = f"{sel.view.name}__{f}" if full_feature_names else f
            if name in owners and owners[name] != sel.view.name:
                msg = (
                    f"feature {f!r} is requested from both {owners[name]!r} and "
                    f"{sel.view.name!r}; pass full_feature_names=True to get "
                    f"'{owners[name]}__{f}' and '{sel.view.name}__{f}'"
                )
                raise RequestError(msg)
            owners[name] = sel.view.name


_ALL_PRESENT: dict[int, tuple[np.ndarray, pa.Array]] = {}


def _all_present(n: int) -> tuple[np.ndarray, pa.Array]:
    """PRESENT for ``n`` rows as codes and as statuses, shared between requests of a size
    (read-only, and Arrow arrays are immutable)."""
    hit = _ALL_PRESENT.get(n)
    if hit is None:
        codes = np.zeros(n, dtype=np.uint8)
        codes.flags.writeable = False
        hit = (codes, _uint8(codes))
        if n <= 1024:
            _ALL_PRESENT[n] = hit
    return hit


def _uint8(values: np.ndarray) -> pa.Array:
    """A uint8 Arrow array over ``values``' memory (``pa.array`` is ~10x slower on small
    arrays)."""
    data = np.ascontiguousarray(values, dtype=np.uint8)
    return pa.Array.from_buffers(pa.uint8(), len(data), [None, pa.py_buffer(data)])


def _empty(num_rows: int) -> pa.Table:
    return pa.table({"__row": pa.array(range(num_rows), pa.int64())}).drop(["__row"])

"""Point-in-time-correct training frames: ``get_historical_features``.

The rule, for an entity row with join keys K and timestamp t and a feature view V with ttl T:
V's candidate rows have every join key equal to K and ``event_timestamp <= t`` and, when T is
set and non-zero, ``event_timestamp >= t - T`` (both bounds inclusive). The greatest
``event_timestamp`` wins; on a tie, the greatest created timestamp (a NULL created timestamp
is lowest); on a further tie, or with no created column, the row that comes later in the
source wins: files ordered by full path, rows by position within the file. With
``filter_by_created_timestamp=True`` a candidate also needs ``created <= t``. Every entity
row comes back once, in its original order (duplicates too), with its columns untouched and
NULL features where no row qualifies. Rows whose timestamp or a join key is NULL never match.

Timestamps are UTC: naive values (entity rows and sources) are read as UTC, zoned ones are
converted. The entity rows' time column is ``event_timestamp``, or else their only
timestamp-typed column. Views without entities are joined on time alone. Output columns are
the entity columns, then the features in request order, named ``feature`` (an error if two
views share a name) or ``view__feature`` with ``full_feature_names=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pyarrow as pa

from featurestore.definitions import FeatureView, OnDemandFeatureView
from featurestore.definitions.collection import FeatureSelection
from featurestore.errors import RequestError, SourceDataError
from featurestore.offline.engine import connect
from featurestore.offline.entities import EntityRows, check_key, read_entity_rows
from featurestore.offline.job import OnDemandInputs, Output, RetrievalJob
from featurestore.offline.query import ViewScan, timestamp_type
from featurestore.offline.source import list_files, source_url
from featurestore.types import from_arrow, is_compatible

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from featurestore.store import Features, FeatureStore

EntitySource: TypeAlias = "pd.DataFrame | pl.DataFrame | pa.Table | str | Path"

__all__ = ["EntitySource", "RetrievalJob", "build_job", "get_historical_features"]


def get_historical_features(
    store: FeatureStore,
    entity_df: EntitySource,
    features: Features,
    *,
    full_feature_names: bool = False,
    filter_by_created_timestamp: bool = False,
) -> RetrievalJob:
    """A training frame for ``entity_df`` with ``features`` (``view:feature`` refs, a
    ``FeatureService`` or its name), resolved against the applied registry."""
    return build_job(
        store,
        store.select(features),
        entity_df,
        full_feature_names=full_feature_names,
        filter_by_created_timestamp=filter_by_created_timestamp,
    )


def build_job(
    store: FeatureStore,
    selections: list[FeatureSelection],
    entity_df: EntitySource,
    *,
    full_feature_names: bool = False,
    filter_by_created_timestamp: bool = False,
) -> RetrievalJob:
    """``get_historical_features`` for already resolved selections; checks everything that
    can be checked before reading data (columns, types, files)."""
    conn = connect(store.config.offline_store, store.repo_path)
    try:
        rows = read_entity_rows(entity_df, conn)
        needed = _needed_features(selections)
        scans = [_scan(store, view, feats, conn) for view, feats in needed.items()]
    finally:
        conn.close()
    index = {scan.view.name: i for i, scan in enumerate(scans)}
    for scan in scans:
        for key, value_type in scan.view.key_schema.items():
            check_key(rows, key, value_type.name, scan.view.name)
    outputs = _outputs(selections, index, full_feature_names, rows)
    on_demand = [
        _on_demand_inputs(sel.view, index, rows)
        for sel in selections
        if isinstance(sel.view, OnDemandFeatureView)
    ]
    nanos = rows.needs_nanoseconds() or any(_has_nanoseconds(s) for s in scans)
    return RetrievalJob(
        config=store.config.offline_store,
        repo_path=store.repo_path,
        entities=rows,
        scans=scans,
        outputs=outputs,
        on_demand=on_demand,
        ts_type=timestamp_type(nanos),
        filter_by_created_timestamp=filter_by_created_timestamp,
        schema=_schema(rows, outputs),
    )


def _needed_features(selections: list[FeatureSelection]) -> dict[FeatureView, list[str]]:
    """Feature views to read and their features: the requested ones, then every feature
    of the views an on-demand view reads."""
    needed: dict[FeatureView, list[str]] = {}
    for sel in selections:
        if isinstance(sel.view, FeatureView):
            pairs = [(sel.view, f) for f in sel.features]
        else:
            pairs = [(v, f) for v in sel.view.source_views for f in v.feature_names]
        for view, feature in pairs:
            names = needed.setdefault(view, [])
            if feature not in names:
                names.append(feature)
    return needed


def _scan(store: FeatureStore, view: FeatureView, features: list[str], conn: Any) -> ViewScan:
    """List the view's files and check its source has the columns and types it declares."""
    source = view.batch_source
    owner = f"view {view.name!r}"
    files = list_files(source_url(store, source), owner=owner)
    files.register(conn)
    schema = files.schema(conn, owner=owner)
    renamed = {dst: src for src, dst in source.field_mapping.items()}
    columns = {name: renamed.get(name, name) for name in (*view.join_keys, *features)}
    declared = {**view.key_schema, **{f: view.field(f).dtype for f in features}}
    for name, column in columns.items():
        _check_column(files.url, owner, schema, column, name, declared[name])
    for column in filter(None, (source.timestamp_field, source.created_timestamp_column)):
        if column not in schema.names:
            msg = (
                f"{owner}: source {files.url!r} has no timestamp column {column!r}; "
                f"its columns are {schema.names}"
            )
            raise SourceDataError(msg)
        kind = schema.field(column).type
        if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
            msg = f"{owner}: column {column!r} of {files.url!r} is {kind}; expected a timestamp"
            raise SourceDataError(msg)
    types = {f.name: f.type for f in schema}
    return ViewScan(view, files, tuple(features), columns, types)


def _check_column(
    url: str, owner: str, schema: pa.Schema, column: str, name: str, declared: Any
) -> None:
    mapped = f" (mapped to {name!r})" if column != name else ""
    if column not in schema.names:
        msg = (
            f"{owner}: source {url!r} has no column {column!r}{mapped}, declared as {declared}; "
            f"its columns are {schema.names}"
        )
        raise SourceDataError(msg)
    kind = schema.field(column).type
    try:
        actual = from_arrow(kind)
    except Exception:
        actual = None
    if pa.types.is_null(kind):
        return
    if actual is None or not is_compatible(declared, actual):
        msg = (
            f"{owner}: column {column!r}{mapped} of {url!r} is {kind}; the view declares "
            f"{declared}, which it cannot be read as"
        )
        raise SourceDataError(msg)


def _has_nanoseconds(scan: ViewScan) -> bool:
    columns = (scan.source.timestamp_field, scan.source.created_timestamp_column)
    return any(
        pa.types.is_timestamp(scan.types[c]) and scan.types[c].unit == "ns"
        for c in columns
        if c and c in scan.types
    )


def _outputs(
    selections: list[FeatureSelection],
    index: dict[str, int],
    full_names: bool,
    rows: EntityRows,
) -> list[Output]:
    outputs: list[Output] = []
    owners: dict[str, str] = {}
    for sel in selections:
        for feature in sel.features:
            name = f"{sel.view.name}__{feature}" if full_names else feature
            if name in owners:
                msg = (
                    f"feature name {name!r} is in both view {owners[name]!r} and view "
                    f"{sel.view.name!r}; pass full_feature_names=True to get "
                    f"'{owners[name]}__{feature}' and '{sel.view.name}__{feature}'"
                )
                raise RequestError(msg)
            if name in rows.schema.names:
                msg = (
                    f"{rows.description} already has a column {name!r}, which would be "
                    f"overwritten by feature {sel.view.name}:{feature}; rename the column or "
                    "pass full_feature_names=True"
                )
                raise RequestError(msg)
            owners[name] = sel.view.name
            arrow_type = next(f.dtype for f in sel.view.schema if f.name == feature).to_arrow()
            if isinstance(sel.view, FeatureView):
                outputs.append(Output(name, feature, arrow_type, scan=index[sel.view.name]))
            else:
                outputs.append(Output(name, feature, arrow_type, on_demand=sel.view))
    return outputs


def _on_demand_inputs(
    view: OnDemandFeatureView, index: dict[str, int], rows: EntityRows
) -> OnDemandInputs:
    fields = tuple(f.name for src in view.request_sources for f in src.schema)
    missing = [f for f in fields if f not in rows.schema.names]
    if missing:
        msg = (
            f"on-demand view {view.name!r} needs request data {missing}, which "
            f"{rows.description} does not have; its columns are {rows.schema.names}"
        )
        raise RequestError(msg)
    features = tuple((index[v.name], f) for v in view.source_views for f in v.feature_names)
    return OnDemandInputs(view, features, fields)


def _schema(rows: EntityRows, outputs: list[Output]) -> pa.Schema:
    return pa.schema([*rows.schema, *(pa.field(o.name, o.arrow_type) for o in outputs)])

"""Push: rows sent by an application to the views of a push source.

The pushed frame uses the batch source's columns: the join keys, the timestamp field, the
features (by their source column names when the source has a ``field_mapping``) and,
optionally, the created timestamp column (filled with the push time when absent).

``to="online"`` writes the latest row per entity to the online store (never over a newer
value); ``to="offline"`` adds a Parquet file to the batch source, which must be a directory:
the file is written under a temporary name and renamed (one PUT on object stores), so
readers never see part of it, and it is named ``push-<time>-<id>.parquet`` so later pushes
sort after earlier ones (ties between rows with equal timestamps go to the later file).
``online_and_offline`` writes offline first, then online.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from featurestore.definitions import FeatureView
from featurestore.errors import RequestError, SourceDataError
from featurestore.materialize.latest import check_columns, latest_sql, source_columns
from featurestore.offline.source import open_dataset, source_url
from featurestore.online._entity_rows import as_table
from featurestore.online._pack import pack_batch

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

TARGETS = ("online", "offline", "online_and_offline")
_ROW = "__push_row"


def push(store: FeatureStore, push_source_name: str, df: Any, to: str = "online") -> int:
    """Check ``df`` against every view fed by the push source, then write it; returns the
    number of rows accepted."""
    if to not in TARGETS:
        msg = f"push: to={to!r}; allowed: {', '.join(TARGETS)}"
        raise RequestError(msg)
    views = store.definitions().views_of_push_source(push_source_name)
    table = _prepare(as_table(df, "df"), views, push_source_name)
    if table.num_rows == 0:
        return 0
    if to in ("offline", "online_and_offline"):
        _write_offline(store, views[0], table, push_source_name)
    if to in ("online", "online_and_offline"):
        for view in views:
            if view.online:
                _write_online(store, view, table)
    return table.num_rows


def _prepare(table: pa.Table, views: list[FeatureView], name: str) -> pa.Table:
    """The pushed table checked and cast to the declared types, with a created column when
    the source has one."""
    source = views[0].batch_source
    where = f"the frame pushed to {name!r}"
    created = source.created_timestamp_column
    if created and created not in table.column_names:
        now = datetime.now(UTC)
        table = table.append_column(created, pa.array([now] * table.num_rows, _TS))
    types: dict[str, pa.DataType] = {source.timestamp_field: _TS}
    if created:
        types[created] = _TS
    for view in views:
        try:
            check_columns(view, table.schema, where)
        except SourceDataError as exc:
            raise RequestError(str(exc)) from None
        for out, src in source_columns(view).items():
            dtype = view.key_schema.get(out) or view.field(out).dtype
            types[src] = dtype.to_arrow()
    for column, target in types.items():
        try:
            cast = table.column(column).cast(target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            msg = f"{where}: column {column!r} does not convert to {target}: {exc}"
            raise RequestError(msg) from None
        table = table.set_column(table.column_names.index(column), column, cast)
    if table.column(source.timestamp_field).null_count:
        msg = f"{where}: column {source.timestamp_field!r} has nulls; every row needs one"
        raise RequestError(msg)
    return table


def _write_online(store: FeatureStore, view: FeatureView, table: pa.Table) -> None:
    """The latest pushed row per entity (ties: the later row) into the online store."""
    rows = table.append_column(_ROW, pa.array(range(table.num_rows), pa.int64()))
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.register("pushed", rows)
        sql = latest_sql(view, "pushed", position=_ROW)
        bounds = {"start": datetime(1, 1, 1, tzinfo=UTC), "end": datetime(9999, 1, 1, tzinfo=UTC)}
        latest = conn.sql(sql, params=bounds).to_arrow_table()
    finally:
        conn.close()
    if latest.num_rows:
        store.online_store.write(pack_batch(view, latest))


def _write_offline(store: FeatureStore, view: FeatureView, table: pa.Table, name: str) -> None:
    url = source_url(store, view.batch_source)
    fs, path = fsspec.core.url_to_fs(url)
    if path.endswith(".parquet") or (fs.exists(path) and not fs.isdir(path)):
        msg = (
            f"push source {name!r}: its batch source {url!r} is a single file; an offline push "
            "adds a new Parquet file, so the batch source must be a directory "
            "(e.g. path='data/events/'); move the file into a directory and point the source at it"
        )
        raise SourceDataError(msg)
    if any(ch in path for ch in "*?["):
        msg = f"push source {name!r}: its batch source {url!r} is a glob; use a directory path"
        raise SourceDataError(msg)
    table = _like_existing(store, view, table)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = f"{path.rstrip('/')}/push-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
    if isinstance(fs, LocalFileSystem):
        Path(path).mkdir(parents=True, exist_ok=True)
        tmp = f"{path.rstrip('/')}/.push-{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        fs.pipe_file(final, sink.getvalue().to_pybytes())


def _like_existing(store: FeatureStore, view: FeatureView, table: pa.Table) -> pa.Table:
    """``table`` with the columns and types of the files already in the source, so the
    directory stays one readable dataset (columns it lacks are null)."""
    try:
        schema = open_dataset(store, view.batch_source, view=view.name).schema
    except SourceDataError:
        return table  # no files yet: this push defines the layout
    if not schema.names:
        return table
    columns = []
    for fld in schema:
        if fld.name in table.column_names:
            try:
                columns.append(table.column(fld.name).cast(fld.type, safe=True))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                msg = (
                    f"view {view.name!r}: pushed column {fld.name!r} does not convert to "
                    f"{fld.type}, its type in the existing files: {exc}"
                )
                raise RequestError(msg) from None
        else:
            columns.append(pa.nulls(table.num_rows, fld.type))
    return pa.Table.from_arrays(columns, schema=schema)


_TS = pa.timestamp("us", tz="UTC")

"""The latest row per entity of a view in a time window, computed by DuckDB.

Latest means: greatest event time, then greatest created time (a null created time is the
smallest), then the row that comes later in the source — files ordered by full path, rows
by position in their file. The training-frame join breaks ties the same way, so the online
store holds exactly what the point-in-time rule returns at the window's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from featurestore.definitions import FeatureView, PushSource
from featurestore.errors import SourceDataError
from featurestore.offline.engine import connect
from featurestore.offline.source import open_dataset, source_url
from featurestore.online._pack import CREATED_TS, EVENT_TS
from featurestore.types import from_arrow, is_compatible

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

BATCH_ROWS = 100_000
# Entities are split by key hash so that each query ranks about this many source rows:
# DuckDB's memory follows one part (its narrow ranking columns), whatever the table size.
PARTITION_ROWS = 10_000_000
FILE_ROW_BITS = 40  # a file's rows fit below this bit of the position key


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_columns(view: FeatureView) -> dict[str, str]:
    """Output column (join key, feature) to the source column it is read from."""
    mapping = {dst: src for src, dst in view.batch_source.field_mapping.items()}
    return {name: mapping.get(name, name) for name in [*view.join_keys, *view.feature_names]}


def latest_sql(
    view: FeatureView, relation: str, *, position: str, part: tuple[int, int] = (0, 1)
) -> str:
    """SQL selecting the latest row per entity of ``relation`` with event time in
    ``[$start, $end]``; full ties go to the greatest ``position``, an expression that is
    unique per row. With ``part=(i, n)`` only the entities whose key hashes to ``i``
    modulo ``n``.

    The winners are ranked on narrow columns (keys, times, position) first; a second scan
    then fetches the winners' features by position. That is faster in DuckDB than ranking
    whole rows, and the second scan streams its output.
    """
    source = view.batch_source
    cols = source_columns(view)
    ts = f"CAST({_q(source.timestamp_field)} AS TIMESTAMPTZ)"
    created = (
        f"CAST({_q(source.created_timestamp_column)} AS TIMESTAMPTZ)"
        if source.created_timestamp_column
        else "CAST(NULL AS TIMESTAMPTZ)"
    )
    keys = [f"{_q(cols[k])} AS {_q(k)}" for k in view.join_keys]
    where = "".join(f" AND {_q(cols[k])} IS NOT NULL" for k in view.join_keys)
    if view.join_keys and part[1] > 1:
        hashed = ", ".join(_q(cols[k]) for k in view.join_keys)
        where += f" AND hash({hashed}) % {int(part[1])} = {int(part[0])}"
    partition = f"PARTITION BY {', '.join(_q(k) for k in view.join_keys)} " if keys else ""
    select = [f"{_q(src)} AS {_q(dst)}" for dst, src in cols.items()]
    return (
        f"WITH k AS (SELECT {''.join(key + ', ' for key in keys)}{ts} AS __e, "
        f"COALESCE({created}, '-infinity'::TIMESTAMPTZ) AS __c, {position} AS __pos "
        f"FROM {relation} WHERE {ts} BETWEEN $start AND $end{where}), "
        f"w AS (SELECT __pos FROM k QUALIFY row_number() OVER "
        f"({partition}ORDER BY __e DESC, __c DESC, __pos DESC) = 1) "
        f"SELECT {', '.join(select)}, {ts} AS {EVENT_TS}, {created} AS {CREATED_TS} "
        f"FROM {relation} SEMI JOIN w ON ({position}) = w.__pos"
    )


def target_schema(view: FeatureView) -> pa.Schema:
    """The Arrow schema of the batches ``latest_batches`` yields."""
    fields = [pa.field(k, t.to_arrow()) for k, t in view.key_schema.items()]
    fields += [pa.field(f.name, f.dtype.to_arrow()) for f in view.schema]
    fields += [pa.field(EVENT_TS, pa.timestamp("us", "UTC"))]
    fields += [pa.field(CREATED_TS, pa.timestamp("us", "UTC"))]
    return pa.schema(fields)


def check_columns(view: FeatureView, schema: pa.Schema, where: str) -> None:
    """Raise ``SourceDataError`` naming the column when the data lacks or mistypes one."""
    source = view.batch_source
    wanted = {
        v: view.key_schema.get(k) or view.field(k).dtype for k, v in source_columns(view).items()
    }
    for name in [source.timestamp_field, source.created_timestamp_column]:
        if name and name not in schema.names:
            msg = (
                f"view {view.name!r}: {where} has no timestamp column {name!r}; "
                f"it has {schema.names}"
            )
            raise SourceDataError(msg)
    for name, declared in wanted.items():
        if name not in schema.names:
            msg = f"view {view.name!r}: {where} has no column {name!r}; it has {schema.names}"
            raise SourceDataError(msg)
        actual = schema.field(name).type
        try:
            ok = is_compatible(declared, from_arrow(actual))
        except Exception:
            ok = False
        if not ok:
            msg = (
                f"view {view.name!r}: column {name!r} in {where} is {actual}, but the view "
                f"declares {declared}; fix the data or the definition"
            )
            raise SourceDataError(msg)


def latest_batches(
    store: FeatureStore, view: FeatureView, start: datetime, end: datetime
) -> Iterator[pa.RecordBatch]:
    """Stream the latest row per entity of ``view`` in ``[start, end]`` as Arrow batches of
    ``target_schema(view)``, one hash partition of the entities after another. A push
    source with no offline data yet yields nothing."""
    source = view.batch_source
    url = source_url(store, source)
    fs, path = fsspec.core.url_to_fs(url)
    if isinstance(view.source, PushSource) and not fs.exists(path):
        return
    dataset = open_dataset(store, source, view=view.name)
    check_columns(view, dataset.schema, f"source {url!r}")
    conn = connect(store.config.offline_store, store.repo_path)
    files = sorted(dataset.files)
    if not isinstance(fs, LocalFileSystem):
        conn.register_filesystem(fs)
        files = [fs.unstrip_protocol(f) for f in files]
    file_list = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    # file_index is the position in this list, sorted by full path: the tie rule's order
    relation = f"read_parquet({file_list}, union_by_name=true)"
    position = f"(file_index::BIGINT << {FILE_ROW_BITS}) | file_row_number"
    parts = max(1, -(-dataset.count_rows() // PARTITION_ROWS)) if view.join_keys else 1
    schema = target_schema(view)
    try:
        for i in range(parts):
            sql = latest_sql(view, relation, position=position, part=(i, parts))
            reader = conn.sql(sql, params={"start": start, "end": end}).to_arrow_reader(BATCH_ROWS)
            assert reader is not None
            for batch in reader:
                yield batch.cast(schema)
    except (duckdb.Error, pa.ArrowInvalid) as exc:
        msg = f"view {view.name!r}: cannot read the latest rows from {url!r}: {exc}"
        raise SourceDataError(msg) from None
    finally:
        conn.close()

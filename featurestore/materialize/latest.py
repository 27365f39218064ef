"""The latest row per entity of a view in a time window, computed by DuckDB.

Latest means: greatest event time, then greatest created time (a null created time is the
smallest), then the row that comes later in the source — files ordered by full path, rows
by position in their file. The training-frame join breaks ties the same way, so the online
store holds exactly what the point-in-time rule returns at the window's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
from fsspec.implementations.local import LocalFileSystem

from featurestore.definitions import FeatureView, PushSource
from featurestore.errors import SourceDataError
from featurestore.offline.engine import connect
from featurestore.offline.query import ident as _q
from featurestore.offline.source import open_dataset, source_url, sql_string
from featurestore.online._pack import CREATED_TS, EVENT_TS
from featurestore.types import from_arrow, is_compatible

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

BATCH_ROWS = 100_000
# Entities are split by key hash so that each query ranks about this many source rows:
# DuckDB's memory follows one part (its narrow ranking columns), whatever the table size.
PARTITION_ROWS = 10_000_000
# Files of at least this many rows on average are fetched one query each (``_by_file``).
FILE_ROWS = 250_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def source_columns(view: FeatureView) -> dict[str, str]:
    """Output column (join key, feature) to the source column it is read from."""
    mapping = {dst: src for src, dst in view.batch_source.field_mapping.items()}
    return {name: mapping.get(name, name) for name in [*view.join_keys, *view.feature_names]}


@dataclass(frozen=True)
class PackedOrder:
    """How to pack (event, created, position) of every row in the window into one HUGEINT
    that sorts like the triple: event minus ``event_min`` in the top bits, then created
    minus ``created_min`` plus one (0 for a null created time, the smallest), then the
    position in the low ``position_bits``. Ranking one integer is about twice as fast in
    DuckDB as ranking a struct."""

    event_min: int
    created_min: int
    created_bits: int
    position_bits: int


def latest_sql(view: FeatureView, relation: str, *, position: str) -> str:
    """SQL selecting the latest row per entity of ``relation`` with event time in
    ``[$start, $end]``; full ties go to the greatest ``position``, an expression that is
    unique per row.

    The winners' positions come from a hash aggregate over narrow columns (keys, times,
    position); a second scan then fetches the winners' features by position. That is
    faster in DuckDB than ranking whole rows, and the second scan streams its output.
    """
    winners = winners_sql(view, relation, position=position)
    return f"WITH w AS ({winners}) {fetch_sql(view, relation, position=position, winners='w')}"


def winners_sql(
    view: FeatureView,
    relation: str,
    *,
    position: str,
    part: tuple[int, int] = (0, 1),
    packed: PackedOrder | None = None,
) -> str:
    """The first half of ``latest_sql``: the winners' positions, column ``__pos``. With
    ``part=(i, n)`` only the entities whose key hashes to ``i`` modulo ``n``. With
    ``packed``, the ranking uses one packed integer per row (every position must fit in
    its ``position_bits``), and the winners also carry their join keys (``__k0``, ...)
    and times, unpacked from it, so that the fetch reads only the features."""
    cols = source_columns(view)
    ts, created = _times(view)
    keys = [_q(cols[k]) for k in view.join_keys]
    where = "".join(f" AND {k} IS NOT NULL" for k in keys)
    if keys and part[1] > 1:
        where += f" AND hash({', '.join(keys)}) % {int(part[1])} = {int(part[0])}"
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    scan = f"FROM {relation} WHERE {ts} BETWEEN $start AND $end{where}{group}"
    if packed is None:
        lowest = "'-infinity'::TIMESTAMPTZ"
        winner = f"arg_max({position}, ({ts}, COALESCE({created}, {lowest}), {position}))"
        return f"SELECT {winner} AS __pos {scan}"
    low = packed.position_bits
    mid = low + packed.created_bits
    created_offset = f"COALESCE(epoch_us({created}) - {int(packed.created_min) - 1}, 0)"
    rank = (
        f"((epoch_us({ts}) - {int(packed.event_min)})::HUGEINT << {mid}) | "
        f"({created_offset}::HUGEINT << {low}) | ({position})"
    )
    key_out = [f"{k} AS __k{i}" for i, k in enumerate(keys)]
    ranked = f"SELECT {', '.join([*key_out, f'max({rank}) AS __rank'])} {scan}"
    created_us = f"((__rank >> {low}) & {(1 << packed.created_bits) - 1})::BIGINT"
    event_ts = f"make_timestamptz(((__rank >> {mid}) + {int(packed.event_min)})::BIGINT)"
    created_ts = (
        f"CASE WHEN {created_us} = 0 THEN NULL "
        f"ELSE make_timestamptz({created_us} + {int(packed.created_min) - 1}) END"
    )
    out = [f"__k{i}" for i in range(len(keys))]
    out += [f"(__rank & {(1 << low) - 1})::BIGINT AS __pos"]
    out += [f"{event_ts} AS {EVENT_TS}", f"{created_ts} AS {CREATED_TS}"]
    return f"SELECT {', '.join(out)} FROM ({ranked})"


def fetch_sql(
    view: FeatureView, relation: str, *, position: str, winners: str, packed: bool = False
) -> str:
    """The second half of ``latest_sql``: the rows whose position is in ``winners`` (all
    in the window, whose bounds let the scan skip row groups outside it). With
    ``packed`` winners (see ``winners_sql``), keys and times come from them."""
    ts, created = _times(view)
    cols = source_columns(view)
    where = f"WHERE {ts} BETWEEN $start AND $end"
    if not packed:
        select = [f"{_q(src)} AS {_q(dst)}" for dst, src in cols.items()]
        return (
            f"SELECT {', '.join(select)}, {ts} AS {EVENT_TS}, {created} AS {CREATED_TS} "
            f"FROM {relation} SEMI JOIN {winners} ON ({position}) = {winners}.__pos {where}"
        )
    return (
        f"SELECT {_packed_select(view)} FROM {relation} AS __s "
        f"JOIN {winners} AS __w ON ({position}) = __w.__pos {where}"
    )


def file_fetch_sql(view: FeatureView, file: str, *, span: tuple[int, int], winners: str) -> str:
    """``fetch_sql`` with packed winners for the rows of one file, whose positions are in
    ``[span[0], span[1])``: joined on the plain ``file_row_number``, DuckDB filters the
    scan's rows by the winners' row numbers before it reads their features, instead of
    probing its hash table with every row."""
    ts, _ = _times(view)
    lo, hi = int(span[0]), int(span[1])
    rows = f"(SELECT *, __pos - {lo} AS __row FROM {winners} WHERE __pos >= {lo} AND __pos < {hi})"
    return (
        f"SELECT {_packed_select(view)} FROM read_parquet([{sql_string(file)}], "
        f"union_by_name=true) AS __s JOIN {rows} AS __w ON file_row_number = __w.__row "
        f"WHERE {ts} BETWEEN $start AND $end"
    )


def _packed_select(view: FeatureView) -> str:
    cols = source_columns(view)
    select = [f"__w.__k{i} AS {_q(k)}" for i, k in enumerate(view.join_keys)]
    select += [f"__s.{_q(cols[f])} AS {_q(f)}" for f in view.feature_names]
    select += [f"__w.{EVENT_TS}", f"__w.{CREATED_TS}"]
    return ", ".join(select)


def _times(view: FeatureView) -> tuple[str, str]:
    source = view.batch_source
    ts = f"CAST({_q(source.timestamp_field)} AS TIMESTAMPTZ)"
    created = (
        f"CAST({_q(source.created_timestamp_column)} AS TIMESTAMPTZ)"
        if source.created_timestamp_column
        else "CAST(NULL AS TIMESTAMPTZ)"
    )
    return ts, created


def packed_order(
    conn: duckdb.DuckDBPyConnection,
    view: FeatureView,
    relation: str,
    params: dict[str, Any],
    position_bits: int,
    dataset: ds.Dataset,
) -> tuple[bool, PackedOrder | None]:
    """Whether the window may hold a row, and a ``PackedOrder`` when (event, created,
    position) fit in 127 bits (else None). The time bounds come from the Parquet statistics
    of ``dataset`` (every row's times, the events clipped to the window) when every file
    has them, else from a scan of the window's times."""
    source = view.batch_source
    bounds = statistics_bounds(dataset, source.timestamp_field, source.created_timestamp_column)
    if bounds is None:
        e_min, e_max, c_min, c_max = _scanned_bounds(conn, view, relation, params)
    else:
        e_min, e_max, c_min, c_max = bounds
        if e_min is not None and e_max is not None:
            e_min = max(e_min, _epoch_us(params["start"]))
            e_max = min(e_max, _epoch_us(params["end"]))
    if e_min is None or e_max is None or e_min > e_max:
        return False, None
    event_bits = int(e_max - e_min).bit_length()
    created_bits = 0 if c_min is None or c_max is None else int(c_max - c_min + 1).bit_length()
    if max(event_bits, created_bits) > 62 or event_bits + created_bits + position_bits > 127:
        return True, None
    return True, PackedOrder(int(e_min), int(c_min or 0), created_bits, position_bits)


Bounds = tuple[int | None, int | None, int | None, int | None]  # event min, max, created min, max


def _scanned_bounds(
    conn: duckdb.DuckDBPyConnection, view: FeatureView, relation: str, params: dict[str, Any]
) -> Bounds:
    cols = source_columns(view)
    ts, created = _times(view)
    where = "".join(f" AND {_q(cols[k])} IS NOT NULL" for k in view.join_keys)
    e_us, c_us = f"epoch_us({ts})", f"epoch_us({created})"
    sql = (
        f"SELECT min({e_us}), max({e_us}), min({c_us}), max({c_us}) FROM {relation} "
        f"WHERE {ts} BETWEEN $start AND $end{where}"
    )
    e_min, e_max, c_min, c_max = conn.sql(sql, params=params).fetchall()[0]
    return e_min, e_max, c_min, c_max


def statistics_bounds(dataset: ds.Dataset, event: str, created: str | None) -> Bounds | None:
    """The least and greatest times (microseconds) of every row in the ``event`` and
    ``created`` columns, from the Parquet row-group statistics; None unless every file
    stores them as timestamps with statistics (not, say, only as a hive partition, or as
    INT96)."""
    fragments = list(dataset.get_fragments())
    event_bounds = _column_bounds(fragments, event)
    if event_bounds is None:
        return None
    if not created:
        return (*event_bounds, None, None)
    created_bounds = _column_bounds(fragments, created)
    return None if created_bounds is None else (*event_bounds, *created_bounds)


_UNIT_US = {"s": 1_000_000, "ms": 1000, "us": 1}


def _column_bounds(fragments: list[Any], name: str) -> tuple[int | None, int | None] | None:
    lo: int | None = None
    hi: int | None = None
    for fragment in fragments:
        schema, meta = fragment.physical_schema, fragment.metadata
        paths = [meta.schema.column(j).path for j in range(len(meta.schema))]
        if name not in schema.names or name not in paths:
            return None
        field = schema.field(name)
        if not pa.types.is_timestamp(field.type):
            return None
        index = paths.index(name)
        for g in range(meta.num_row_groups):
            chunk = meta.row_group(g).column(index)
            stats = chunk.statistics
            if stats is None or stats.physical_type != "INT64":
                return None
            if not stats.has_min_max:
                if stats.has_null_count and stats.null_count == chunk.num_values:
                    continue  # all null
                return None
            if field.type.unit == "ns":  # epoch_us of a nanosecond time truncates
                low, high = stats.min_raw // 1000, -(-stats.max_raw // 1000)
            else:
                low, high = (v * _UNIT_US[field.type.unit] for v in (stats.min_raw, stats.max_raw))
            lo = low if lo is None else min(lo, low)
            hi = high if hi is None else max(hi, high)
    return lo, hi


def _epoch_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


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


def _by_file(dataset: ds.Dataset, total: int) -> bool:
    """Whether to fetch one file at a time: its files have one schema (else a file's own
    columns differ from the union's) and ``FILE_ROWS`` rows or more on average (a query
    per file costs more than it saves for small files: 10M rows in 100 files took ~0.5 s
    more CPU, in 30 files ~0.2 s less, in 10 files ~0.3 s less)."""
    schemas = [f.physical_schema for f in dataset.get_fragments()]
    if total < FILE_ROWS * len(schemas):
        return False
    return all(s.equals(schemas[0]) for s in schemas[1:])


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
    file_list = "[" + ", ".join(sql_string(f) for f in files) + "]"
    # file_index is the position in this list, sorted by full path: the tie rule's order
    relation = f"read_parquet({file_list}, union_by_name=true)"
    params = {"start": start, "end": end}
    schema = target_schema(view)
    try:
        # Positions are unique over every row (the fetch scans rows outside the window too):
        # no file has more rows than all of them.
        total = dataset.count_rows()
        row_bits = max(1, total.bit_length())
        position = f"(file_index::BIGINT << {row_bits}) | file_row_number"
        position_bits = row_bits + (len(files) - 1).bit_length()
        any_rows, packed = packed_order(conn, view, relation, params, position_bits, dataset)
        if not any_rows:
            return
        parts = max(1, -(-total // PARTITION_ROWS)) if view.join_keys else 1
        # DuckDB leaves a core to packing and the store (a local redis-server) while the
        # fetch streams. Ranking on every thread too saved ~0.2 s of 10M rows on 2 idle
        # cores but cost ~40% more CPU (the parallel hash aggregate's merge), a loss on a
        # busy machine.
        threads = int(conn.sql("SELECT current_setting('threads')").fetchall()[0][0])
        conn.execute(f"SET threads = {max(1, threads - 1)}")
        # Integer join keys of a small range (per their Parquet statistics) are grouped in
        # a perfect hash table, an array indexed by key: ranking 10M rows took ~40% less
        # CPU. The array has a slot per key in the range, whatever the number of entities:
        # at most about as many as there are rows.
        conn.execute(f"SET perfect_ht_threshold = {min(22, max(12, row_bits))}")
        if packed is not None and _by_file(dataset, total):
            # positions ordered: each file's query skips the other files' winners
            order = " ORDER BY __pos"
            fetches = [
                file_fetch_sql(
                    view, f, span=(i << row_bits, (i + 1) << row_bits), winners="__winners"
                )
                for i, f in enumerate(files)
            ]
        else:
            order = ""
            fetches = [
                fetch_sql(
                    view,
                    relation,
                    position=position,
                    winners="__winners",
                    packed=packed is not None,
                )
            ]
        for i in range(parts):
            winners = winners_sql(view, relation, position=position, part=(i, parts), packed=packed)
            conn.execute(f"CREATE OR REPLACE TEMP TABLE __winners AS {winners}{order}", params)
            for fetch in fetches:
                reader = conn.sql(fetch, params=params).to_arrow_reader(BATCH_ROWS)
                assert reader is not None
                for batch in reader:
                    yield batch.cast(schema)
    except (duckdb.Error, pa.ArrowInvalid) as exc:
        msg = f"view {view.name!r}: cannot read the latest rows from {url!r}: {exc}"
        raise SourceDataError(msg) from None
    finally:
        conn.close()

"""The point-in-time join in DuckDB SQL.

Every view is one ``ASOF LEFT JOIN`` on the entity rows. Its inequality compares an ordering
key, so DuckDB's "greatest row not after t" *is* the point-in-time winner, ties included:

    (event_timestamp, created timestamp (nulls lowest), file position, row in file)

The entity side uses ``(t, +inf, +inf, ...)``, so every row with ``event_timestamp <= t``
qualifies and the greatest key wins. A ttl is a filter on the winner (if the latest row is
too old, every older one is too). The scan of each source is pruned by the entity rows'
time range (Parquet statistics skip row groups), then joined to the entity keys present
with their own time range, so rows that cannot win for any entity row never reach the sort.
``filter_by_created_timestamp`` needs ``created <= t`` as well, which an ASOF join cannot
express: those views use a range join that keeps the best row per entity row.

The result is ordered by the entity row number, so every entity row comes back once, in
its original order. Views over the same files share one scan and join; when there are
several such joins, each runs on its own into a temporary table (see ``build_query``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa

from featurestore.definitions import FeatureView, ParquetSource
from featurestore.offline.source import SourceFiles, sql_string
from featurestore.types import ArrayType, ValueType

ROW = "__fs_row"  # the entity row number
TIME = "__fs_t"  # the entity row's timestamp, normalized to UTC
ENTITY_INPUT = "__fs_entity_input"  # the registered entity rows (with ROW)
_MAX_BIGINT = 2**63 - 1
_FILE_SHIFT = 40  # tie-break key: file position << 40 | row in file

_DUCKDB_TYPES = {
    "Bool": "BOOLEAN",
    "Int32": "INTEGER",
    "Int64": "BIGINT",
    "Float32": "FLOAT",
    "Float64": "DOUBLE",
    "String": "VARCHAR",
    "Bytes": "BLOB",
    "UnixTimestamp": "TIMESTAMPTZ",
}


def duckdb_type(value_type: ValueType) -> str:
    """The DuckDB type that holds ``value_type``."""
    if isinstance(value_type, ArrayType):
        return f"{duckdb_type(value_type.element)}[]"
    return _DUCKDB_TYPES[value_type.name]


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ViewScan:
    """What to read from one view's source, with the source's column names and types."""

    view: FeatureView
    files: SourceFiles
    features: tuple[str, ...]  # features to fetch, by feature name
    columns: dict[str, str]  # join key or feature name -> source column
    types: dict[str, pa.DataType]  # source column -> Arrow type

    @property
    def source(self) -> ParquetSource:
        return self.view.batch_source

    def alias(self, index: int, feature: str) -> str:
        return f"__fs_v{index}_{self.features.index(feature)}"


@dataclass(frozen=True)
class Bounds:
    """The entity rows' time range, for pruning the sources' scans."""

    lowest: datetime | None
    highest: datetime | None


def timestamp_type(nanoseconds: bool) -> str:
    return "TIMESTAMP_NS" if nanoseconds else "TIMESTAMP"


def utc(column: str, arrow_type: pa.DataType | None, ts_type: str) -> str:
    """``column`` (a timestamp or date) as a naive UTC ``ts_type`` (the session is UTC)."""
    if (
        arrow_type is not None
        and pa.types.is_timestamp(arrow_type)
        and arrow_type.unit == "ns"
        and arrow_type.tz
    ):
        column = f"CAST({column} AS TIMESTAMP_NS)"  # DuckDB has no TIMESTAMPTZ_NS -> TIMESTAMP
    return f"CAST({column} AS {ts_type})"


def build_query(
    scans: list[ViewScan],
    *,
    ts_type: str,
    bounds: Bounds,
    passthrough: bool,
    filter_by_created_timestamp: bool,
) -> list[str]:
    """The training-frame SQL: setup statements, then the query giving entity columns (when
    ``passthrough``) and each scan's features as ``__fs_v{i}_{j}``, ordered by entity row.

    Views that read the same files with the same keys and timestamps share one scan and one
    join (their ttls still apply per view). With one such group the whole frame is one query.
    With several, each group's join runs on its own into a temporary table of (entity row,
    features), one after another, so memory holds one join at a time; the final query puts
    them side by side by entity row."""
    groups = _groups(scans, filter_by_created_timestamp)
    joins: list[str] = []
    columns: dict[str, str] = {}
    if len(groups) == 1:
        members = groups[0]
        ranged = _ranged(members, filter_by_created_timestamp)
        scan_cte = f"__fs_g0 AS ({_scan_sql(members, ts_type, bounds, ranged)})"
        join, exprs, extra = _group_join(0, members, ts_type, filter_by_created_timestamp)
        ctes = [f"__fs_e AS (SELECT * FROM {ENTITY_INPUT})", scan_cte, *extra]
        joins.append(join)
        columns.update(exprs)
        setup: list[str] = []
        head = "WITH " + ",\n".join(ctes) + "\n"
    else:
        setup = [f"CREATE TEMP TABLE __fs_e AS SELECT * FROM {ENTITY_INPUT}"]
        for g, members in enumerate(groups):
            ranged = _ranged(members, filter_by_created_timestamp)
            scan_cte = f"__fs_g{g} AS ({_scan_sql(members, ts_type, bounds, ranged)})"
            join, exprs, extra = _group_join(g, members, ts_type, filter_by_created_timestamp)
            selected = ", ".join(f"{expr} AS {alias}" for alias, expr in exprs.items())
            setup.append(
                f"CREATE TEMP TABLE __fs_r{g} AS WITH {', '.join([scan_cte, *extra])} "
                f"SELECT e.{ROW}, {selected} FROM __fs_e e {join}"
            )
            joins.append(f"LEFT JOIN __fs_r{g} r{g} ON r{g}.{ROW} = e.{ROW}")
            columns.update({alias: f"r{g}.{alias}" for alias in exprs})
        head = ""
    outputs = ["e.* EXCLUDE (" + ROW + ", " + TIME + ")"] if passthrough else []
    for i, scan in enumerate(scans):
        outputs.extend(f"{columns[scan.alias(i, f)]} AS {scan.alias(i, f)}" for f in scan.features)
    select = ",\n  ".join(outputs) if outputs else ROW
    final = f"{head}SELECT\n  {select}\nFROM __fs_e e\n" + "\n".join(joins) + f"\nORDER BY e.{ROW}"
    return [*setup, final]


def _ranged(members: list[tuple[int, ViewScan]], filter_by_created_timestamp: bool) -> bool:
    return filter_by_created_timestamp and bool(members[0][1].source.created_timestamp_column)


def _group_join(
    g: int, members: list[tuple[int, ViewScan]], ts_type: str, filter_by_created: bool
) -> tuple[str, dict[str, str], list[str]]:
    """The join of group ``g`` onto the entity rows ``e``, the expression of each feature
    alias, and any extra CTE it needs."""
    first = members[0][1]
    if _ranged(members, filter_by_created):
        match = f"__fs_m{g} AS ({_range_match(g, members, ts_type)})"
        exprs = {m.alias(i, f): f"g{g}.{m.alias(i, f)}" for i, m in members for f in m.features}
        return f"LEFT JOIN __fs_m{g} g{g} ON g{g}.{ROW} = e.{ROW}", exprs, [match]
    on = [f"e.{ident(k)} = g{g}.{ident(k)}" for k in first.view.join_keys]
    on.append(f"{_entity_key(first, ts_type)} >= g{g}.__fs_ord")
    exprs = {}
    for i, scan in members:
        fresh = _fresh(f"g{g}.__fs_ts", scan.view.ttl, ts_type)
        for f in scan.features:
            col = f"g{g}.{scan.alias(i, f)}"
            exprs[scan.alias(i, f)] = f"CASE WHEN {fresh} THEN {col} END" if fresh else col
    return f"ASOF LEFT JOIN __fs_g{g} g{g} ON " + " AND ".join(on), exprs, []


def _groups(scans: list[ViewScan], ranged: bool) -> list[list[tuple[int, ViewScan]]]:
    """Scans that can share one scan and join: same files, keys and timestamp columns (and
    ttl, for range joins, where the ttl is part of the join)."""
    groups: dict[tuple, list[tuple[int, ViewScan]]] = {}
    for i, scan in enumerate(scans):
        src = scan.source
        signature = (
            scan.files.paths,
            tuple((k, scan.columns[k]) for k in scan.view.join_keys),
            src.timestamp_field,
            src.created_timestamp_column,
            scan.view.ttl if ranged else None,
        )
        groups.setdefault(signature, []).append((i, scan))
    return list(groups.values())


def _scan_sql(
    members: list[tuple[int, ViewScan]], ts_type: str, bounds: Bounds, ranged: bool
) -> str:
    """The rows of a group of views: join keys, ordering key, (timestamps), features; the
    scan pruned by time and by the entity keys present."""
    scan = members[0][1]
    src = scan.source
    ts = ident(src.timestamp_field)
    cols = [f"s.{ident(scan.columns[k])} AS {ident(k)}" for k in scan.view.join_keys]
    cols.append(f"{_order_key(scan, ts_type)} AS __fs_ord")
    if ranged or any(m.view.ttl for _, m in members):
        cols.append(f"{_utc(scan, src.timestamp_field, ts_type)} AS __fs_ts")
    if ranged:
        cols.append(f"{_utc(scan, src.created_timestamp_column, ts_type)} AS __fs_cr")
    for i, member in members:
        for f in member.features:
            target = duckdb_type(member.view.field(f).dtype)
            column = ident(member.columns[f])
            cols.append(f"CAST(s.{column} AS {target}) AS {member.alias(i, f)}")
    ttls = [m.view.ttl for _, m in members]
    widest = None if not all(ttls) else max(t for t in ttls if t)
    where = [f"s.{ts} IS NOT NULL", *_time_filters(scan, bounds, widest)]
    by_key = ""
    if scan.view.join_keys:
        # Only keys present in the entity rows, and per key only rows not after its latest
        # entity time (nor, with a ttl, before its earliest time minus the ttl): no other
        # row can win for any entity row.
        keys = ", ".join(ident(k) for k in scan.view.join_keys)
        on = [f"s.{ident(scan.columns[k])} = k.{ident(k)}" for k in scan.view.join_keys]
        event = _utc(scan, src.timestamp_field, ts_type)
        on.append(f"{event} <= k.__fs_hi")
        lowest = _fresh(event, widest, ts_type, against="k.__fs_lo")
        if lowest:
            on.append(lowest)
        bounds_sql = f"max({TIME}) AS __fs_hi, min({TIME}) AS __fs_lo"
        by_key = (
            f" JOIN (SELECT {keys}, {bounds_sql} FROM __fs_e GROUP BY {keys}) k "
            f"ON {' AND '.join(on)}"
        )
    return f"SELECT {', '.join(cols)} FROM {scan.files.scan()} s{by_key} WHERE " + " AND ".join(
        where
    )


def _utc(scan: ViewScan, column: str, ts_type: str) -> str:
    return utc(f"s.{ident(column)}", scan.types.get(column), ts_type)


def _order_key(scan: ViewScan, ts_type: str) -> str:
    src = scan.source
    parts = [f"'ts': {_utc(scan, src.timestamp_field, ts_type)}"]
    if src.created_timestamp_column:
        created = _utc(scan, src.created_timestamp_column, ts_type)
        parts.append(f"'cr': COALESCE({created}, '-infinity'::{ts_type})")
    position = "s.file_row_number"
    if len(scan.files.paths) > 1:
        position = f"((s.file_index::BIGINT << {_FILE_SHIFT}) | s.file_row_number)"
    parts.append(f"'tb': {position}")
    return "{" + ", ".join(parts) + "}"


def _entity_key(scan: ViewScan, ts_type: str) -> str:
    """The entity side of the ordering key: ``(t, +inf, +inf)``; NULL when t is NULL (a
    struct with a NULL field would compare as greatest)."""
    parts = [f"'ts': e.{TIME}"]
    if scan.source.created_timestamp_column:
        parts.append(f"'cr': 'infinity'::{ts_type}")
    parts.append(f"'tb': {_MAX_BIGINT}")
    return f"(CASE WHEN e.{TIME} IS NOT NULL THEN {{{', '.join(parts)}}} END)"


def _fresh(column: str, ttl: timedelta | None, ts_type: str, against: str = f"e.{TIME}") -> str:
    """A condition that ``column`` is no older than ``against - ttl`` (exact integers)."""
    if not ttl:
        return ""
    if ts_type == "TIMESTAMP_NS":
        span = (ttl // timedelta(microseconds=1)) * 1000
        return f"epoch_ns({column}) >= epoch_ns({against}) - {span}"
    span = ttl // timedelta(microseconds=1)
    return f"epoch_us({column}) >= epoch_us({against}) - {span}"


def _range_match(g: int, members: list[tuple[int, ViewScan]], ts_type: str) -> str:
    """Best row per entity row among rows with event and created time <= t (and in ttl).
    Views of a group are matched together only when their ttls agree."""
    scan = members[0][1]
    on = [f"e.{ident(k)} = v.{ident(k)}" for k in scan.view.join_keys]
    on += [f"v.__fs_ts <= e.{TIME}", f"(v.__fs_cr IS NULL OR v.__fs_cr <= e.{TIME})"]
    fresh = _fresh("v.__fs_ts", scan.view.ttl, ts_type)
    if fresh:
        on.append(fresh)
    cols = ", ".join(f"v.{m.alias(i, f)}" for i, m in members for f in m.features)
    return (
        f"SELECT e.{ROW}, {cols} FROM __fs_e e JOIN __fs_g{g} v ON {' AND '.join(on)} "
        f"QUALIFY row_number() OVER (PARTITION BY e.{ROW} ORDER BY v.__fs_ord DESC) = 1"
    )


def _time_filters(scan: ViewScan, bounds: Bounds, ttl: timedelta | None) -> list[str]:
    """Loose bounds on the raw timestamp column, written so DuckDB pushes them into the
    Parquet scan (row groups outside are skipped by their statistics). One second of slack
    keeps them safe whatever the column's precision; the exact rule is applied later."""
    src = scan.source
    column_type = scan.types.get(src.timestamp_field)
    if column_type is None or not pa.types.is_timestamp(column_type):
        return []
    literal_type = "TIMESTAMPTZ" if column_type.tz else "TIMESTAMP"
    if column_type.unit == "ns":
        literal_type += "_NS"
    ts = f"s.{ident(src.timestamp_field)}"
    out = []
    if bounds.highest is not None:
        out.append(f"{ts} <= {_literal(bounds.highest + timedelta(seconds=1), literal_type)}")
    if bounds.lowest is not None and ttl:
        low = bounds.lowest - ttl - timedelta(seconds=1)
        out.append(f"{ts} >= {_literal(low, literal_type)}")
    return out


def _literal(moment: datetime, literal_type: str) -> str:
    text = moment.replace(tzinfo=None).isoformat(sep=" ")
    if literal_type.startswith("TIMESTAMPTZ"):
        text += "+00"
    return f"{sql_string(text)}::{literal_type}"

"""The entity rows of a training frame: whatever the user passed, as rows DuckDB can join.

Accepted: a pandas or polars DataFrame, a pyarrow Table, a Parquet path or URL (file,
directory, glob, hive partitions; through fsspec), or a SQL query run by DuckDB.

The timestamp column is ``event_timestamp`` when there is one; otherwise the only column of
a timestamp (or date) type. Naive timestamps are UTC; zoned ones are converted to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from featurestore.errors import RequestError
from featurestore.offline.query import ENTITY_INPUT, ROW, TIME, ident, utc
from featurestore.offline.source import SourceFiles, list_files, unreadable

DEFAULT_TIMESTAMP = "event_timestamp"
_SQL_STARTS = ("select", "with", "from", "values", "table", "(")
_FILE_SHIFT = 40


@dataclass(frozen=True)
class EntityRows:
    """The entity rows in one of three forms, their schema and timestamp column."""

    schema: pa.Schema
    timestamp: str
    table: pa.Table | None = None  # in memory: its columns are re-attached, untouched
    files: SourceFiles | None = None
    sql: str | None = None

    @property
    def in_memory(self) -> bool:
        return self.table is not None

    @property
    def description(self) -> str:
        if self.files is not None:
            return f"entity rows at {self.files.url!r}"
        return "the entity query" if self.sql is not None else "entity_df"

    def register(self, conn: duckdb.DuckDBPyConnection, columns: list[str], ts_type: str) -> None:
        """Make ``ENTITY_INPUT`` on ``conn``: the rows (only ``columns`` when in memory), a
        row number ``ROW`` in input order and the UTC timestamp ``TIME``."""
        kind = self.schema.field(self.timestamp).type
        t = f"{utc(ident(self.timestamp), kind, ts_type)} AS {TIME}"
        if self.table is not None:
            row = pl.int_range(0, self.table.num_rows, dtype=pl.Int64, eager=True).to_arrow()
            narrow = self.table.select(columns).append_column(ROW, row)
            conn.register("__fs_entity_arrow", narrow)
            conn.execute(f"CREATE TEMP VIEW {ENTITY_INPUT} AS SELECT *, {t} FROM __fs_entity_arrow")
        elif self.files is not None:
            self.files.register(conn)
            row = f"((file_index::BIGINT << {_FILE_SHIFT}) | file_row_number)"
            conn.execute(
                f"CREATE TEMP VIEW {ENTITY_INPUT} AS SELECT * EXCLUDE (file_row_number), "
                f"{row} AS {ROW}, {t} FROM {self.files.scan()}"
            )
        else:
            conn.execute(f"CREATE TEMP TABLE __fs_entity_sql AS {self.sql}")
            conn.execute(
                f"CREATE TEMP VIEW {ENTITY_INPUT} AS SELECT *, rowid AS {ROW}, {t} "
                "FROM __fs_entity_sql"
            )

    def needs_nanoseconds(self) -> bool:
        """Whether the timestamps have sub-microsecond parts (then compare in nanoseconds)."""
        kind = self.schema.field(self.timestamp).type
        if not (pa.types.is_timestamp(kind) and kind.unit == "ns"):
            return False
        if self.table is None:
            return True
        try:
            self.table.column(self.timestamp).cast(pa.timestamp("us", kind.tz), safe=True)
        except pa.ArrowInvalid:
            return True
        return False


def read_entity_rows(entity_df: Any, conn: duckdb.DuckDBPyConnection) -> EntityRows:
    """Normalize ``entity_df``; raise ``RequestError`` for anything else."""
    if isinstance(entity_df, pa.Table):
        return _in_memory(entity_df)
    if isinstance(entity_df, pl.DataFrame):
        return _in_memory(entity_df.to_arrow())
    if _is_pandas(entity_df):
        return _in_memory(pa.Table.from_pandas(entity_df, preserve_index=False))
    if isinstance(entity_df, Path):
        entity_df = str(entity_df)
    if isinstance(entity_df, str):
        text = entity_df.strip()
        if text.lower().startswith(_SQL_STARTS):
            return _from_sql(text, conn)
        files = list_files(text, owner="entity_df")
        files.register(conn)
        schema = files.schema(conn, owner="entity_df")
        return EntityRows(schema=schema, timestamp=_timestamp_column(schema), files=files)
    msg = (
        f"entity_df is a {type(entity_df).__name__}; expected a pandas or polars DataFrame, "
        "a pyarrow Table, a Parquet path or URL, or a SQL query"
    )
    raise RequestError(msg)


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns")


def _in_memory(table: pa.Table) -> EntityRows:
    names = table.column_names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"entity_df has duplicate column names {dupes}; rename them"
        raise RequestError(msg)
    return EntityRows(schema=table.schema, timestamp=_timestamp_column(table.schema), table=table)


def _from_sql(sql: str, conn: duckdb.DuckDBPyConnection) -> EntityRows:
    try:
        schema = conn.sql(f"SELECT * FROM ({sql}) LIMIT 0").arrow().schema
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        msg = f"the entity query failed in DuckDB: {first}"
        raise RequestError(msg) from None
    return EntityRows(schema=schema, timestamp=_timestamp_column(schema), sql=sql)


def _timestamp_column(schema: pa.Schema) -> str:
    if DEFAULT_TIMESTAMP in schema.names:
        kind = schema.field(DEFAULT_TIMESTAMP).type
        if not _is_time(kind):
            msg = (
                f"entity_df column {DEFAULT_TIMESTAMP!r} is {kind}; expected a timestamp "
                "(naive timestamps are read as UTC) or a date"
            )
            raise RequestError(msg)
        return DEFAULT_TIMESTAMP
    candidates = [f.name for f in schema if _is_time(f.type)]
    if len(candidates) == 1:
        return candidates[0]
    found = f"timestamp columns {candidates}" if candidates else "no timestamp column"
    msg = (
        f"entity_df needs the time of each row: a column {DEFAULT_TIMESTAMP!r}, or exactly one "
        f"column of a timestamp type; found {found} among {schema.names}"
    )
    raise RequestError(msg)


def _is_time(kind: pa.DataType) -> bool:
    return pa.types.is_timestamp(kind) or pa.types.is_date(kind)


def check_key(rows: EntityRows, key: str, expected: str, view: str) -> None:
    """Raise ``RequestError`` unless ``rows`` has column ``key`` of a type matching
    ``expected`` (a value type name: Int32, Int64, String or Bytes)."""
    if key not in rows.schema.names:
        msg = (
            f"{rows.description} has no column {key!r}, a join key of view {view!r}; "
            f"its columns are {rows.schema.names}"
        )
        raise RequestError(msg)
    kind = rows.schema.field(key).type
    ok = {
        "Int32": pa.types.is_integer,
        "Int64": pa.types.is_integer,
        "String": lambda t: (
            pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
        ),
        "Bytes": lambda t: (
            pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
        ),
    }[expected]
    if not (ok(kind) or pa.types.is_null(kind) or _dictionary_of(kind, ok)):
        msg = (
            f"{rows.description}: join key column {key!r} (view {view!r}) is {kind}; "
            f"expected {expected} values"
        )
        raise RequestError(msg)


def _dictionary_of(kind: pa.DataType, ok: Any) -> bool:
    return pa.types.is_dictionary(kind) and bool(ok(kind.value_type))


def wrap_unreadable(rows: EntityRows, exc: duckdb.Error) -> Exception:
    """An error for a failure reading the entity rows themselves."""
    if rows.files is not None:
        return unreadable(rows.files.url, exc, owner="entity_df")
    return RequestError(f"the entity query failed in DuckDB: {exc}")

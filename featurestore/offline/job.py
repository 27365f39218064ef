"""``RetrievalJob``: a lazy training frame; DuckDB runs only when the frame is read.

Reading streams: ``to_batches()`` and ``to_parquet()`` hold one batch in Python at a time,
while DuckDB works within the configured ``memory_limit`` and spills to ``temp_directory``.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from featurestore.definitions import OnDemandFeatureView
from featurestore.errors import SourceDataError
from featurestore.offline.engine import connect
from featurestore.offline.entities import EntityRows, wrap_unreadable
from featurestore.offline.query import ENTITY_INPUT, TIME, Bounds, ViewScan, build_query
from featurestore.offline.source import sql_string, unreadable
from featurestore.repo.config import OfflineConfig

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Output:
    """One output column: a view's feature (``scan`` >= 0) or an on-demand feature."""

    name: str
    feature: str
    arrow_type: pa.DataType
    scan: int = -1
    on_demand: OnDemandFeatureView | None = None


@dataclass(frozen=True)
class OnDemandInputs:
    """Where an on-demand view finds its inputs: (scan, feature) pairs and request fields."""

    view: OnDemandFeatureView
    features: tuple[tuple[int, str], ...]
    request_fields: tuple[str, ...]


class RetrievalJob:
    """A point-in-time-correct training frame, computed when read.

    >>> job = store.get_historical_features(entity_df, ["member_activity:plays_7d"])
    ...                                                                  # doctest: +SKIP
    >>> job.schema.names                                                 # doctest: +SKIP
    ['member_id', 'event_timestamp', 'label', 'plays_7d']
    >>> frame = job.to_polars()                                          # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        config: OfflineConfig,
        repo_path: Path,
        entities: EntityRows,
        scans: list[ViewScan],
        outputs: list[Output],
        on_demand: list[OnDemandInputs],
        ts_type: str,
        filter_by_created_timestamp: bool,
        schema: pa.Schema,
    ) -> None:
        self._config = config
        self._repo_path = repo_path
        self._entities = entities
        self._scans = scans
        self._outputs = outputs
        self._on_demand = on_demand
        self._ts_type = ts_type
        self._filter_by_created = filter_by_created_timestamp
        self._schema = schema

    @property
    def schema(self) -> pa.Schema:
        """The frame's columns: the entity columns as given, then the features."""
        return self._schema

    # --- reading ----------------------------------------------------------------------------

    def to_batches(self, batch_rows: int = DEFAULT_BATCH_ROWS) -> pa.RecordBatchReader:
        """Stream the frame in entity-row order, ``batch_rows`` rows at a time."""
        return pa.RecordBatchReader.from_batches(self._schema, self._batches(batch_rows))

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_batches(list(self._batches(0)), schema=self._schema)

    def to_polars(self) -> pl.DataFrame:
        frame = pl.from_arrow(self.to_arrow())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def to_pandas(self) -> pd.DataFrame:
        return self.to_arrow().to_pandas()

    def to_parquet(
        self,
        url: str,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        on_batch: Callable[[int], Any] | None = None,
    ) -> int:
        """Write the frame as one Parquet file at ``url`` (any fsspec URL), streaming; return
        the number of rows. ``on_batch(rows)`` is called after each batch (for progress).
        The file appears only when complete: it is written beside, then moved."""
        fs, path = fsspec.core.url_to_fs(url)
        partial = f"{path}.{uuid.uuid4().hex[:8]}.partial"
        written = 0
        try:
            with fs.open(partial, "wb") as handle, pq.ParquetWriter(handle, self._schema) as out:
                for batch in self._batches(batch_rows):
                    out.write_batch(batch)
                    written += batch.num_rows
                    if on_batch is not None:
                        on_batch(batch.num_rows)
            fs.mv(partial, path)
        finally:
            if fs.exists(partial):
                fs.rm(partial)
        return written

    def explain(self, *, analyze: bool = False) -> str:
        """The SQL and DuckDB's plans. With ``analyze``, the statements run and the report
        adds the rows and Parquet row groups actually read (to see pruning at work)."""
        conn, statements = self._prepare(run_setup=False)
        text = ";\n\n".join(statements)
        try:
            if analyze:
                return text + "\n\n" + self._profile(conn, statements)
            plans = []
            for statement in statements:
                if statement.startswith("CREATE TEMP TABLE __fs_e "):
                    conn.execute(statement)  # the entity rows, for the plans that read them
                    continue
                query = (
                    statement.split(" AS ", 1)[1] if statement.startswith("CREATE") else statement
                )
                if "__fs_r" in query and not statement.startswith("CREATE"):
                    continue  # the final query reads tables the statements before it make
                plans.append("\n".join(row[1] for row in conn.sql("EXPLAIN " + query).fetchall()))
            return text + "\n\n" + "\n\n".join(plans)
        except duckdb.Error as exc:
            raise self._error(exc) from None
        finally:
            conn.close()

    def _profile(self, conn: duckdb.DuckDBPyConnection, statements: list[str]) -> str:
        totals = {
            "total_rows_scanned": 0,
            "total_row_groups_scanned": 0,
            "total_row_groups_to_scan": 0,
        }
        with tempfile.TemporaryDirectory() as folder:
            for n, statement in enumerate(statements):
                path = Path(folder) / f"profile{n}.json"
                conn.execute("PRAGMA enable_profiling = 'json'")
                conn.execute(f"PRAGMA profiling_output = {sql_string(str(path))}")
                conn.sql(statement).fetchall() if n == len(statements) - 1 else conn.execute(
                    statement
                )
                conn.execute("PRAGMA disable_profiling")
                stats = json.loads(path.read_text()).get("query", {})
                for key in totals:
                    totals[key] += int(stats.get(key) or 0)
        return (
            f"rows scanned: {totals['total_rows_scanned']}\n"
            f"row groups scanned: {totals['total_row_groups_scanned']} "
            f"of {totals['total_row_groups_to_scan']}"
        )

    # --- internals --------------------------------------------------------------------------

    def _prepare(self, *, run_setup: bool = True) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
        """A connection with the entity rows registered, and the statements of the frame,
        all but the last (the query) already run when ``run_setup``."""
        conn = connect(self._config, self._repo_path)
        try:
            for scan in self._scans:
                scan.files.register(conn)
            columns = self._entity_columns()
            self._entities.register(conn, columns, self._ts_type)
            query = f"SELECT min({TIME}), max({TIME}) FROM {ENTITY_INPUT}"
            low, high = conn.sql(query).fetchall()[0]
        except duckdb.Error as exc:
            conn.close()
            raise wrap_unreadable(self._entities, exc) from None
        statements = build_query(
            self._scans,
            ts_type=self._ts_type,
            bounds=Bounds(_as_datetime(low), _as_datetime(high)),
            passthrough=not self._entities.in_memory,
            filter_by_created_timestamp=self._filter_by_created,
        )
        if run_setup:
            try:
                for statement in statements[:-1]:
                    conn.execute(statement)
            except duckdb.Error as exc:
                conn.close()
                raise self._error(exc) from None
        return conn, statements

    def _entity_columns(self) -> list[str]:
        keys = {k for scan in self._scans for k in scan.view.join_keys}
        return [
            c for c in self._entities.schema.names if c in keys or c == self._entities.timestamp
        ]

    def _batches(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """The frame's batches in order: streamed ``batch_rows`` at a time, or (0) fetched
        whole, which lets DuckDB convert to Arrow in parallel."""
        conn, statements = self._prepare()
        try:
            offset = 0
            for batch in self._duckdb_batches(conn, statements[-1], batch_rows):
                yield self._assemble(batch, offset)
                offset += batch.num_rows
        finally:
            conn.close()

    def _duckdb_batches(
        self, conn: duckdb.DuckDBPyConnection, sql: str, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        try:
            if batch_rows <= 0:
                yield from conn.sql(sql).to_arrow_table().to_batches()
                return
            reader = conn.sql(sql).to_arrow_reader(batch_rows)
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                yield batch
        except (duckdb.Error, pa.ArrowException) as exc:
            raise self._error(exc) from None

    def _assemble(self, batch: pa.RecordBatch, offset: int) -> pa.RecordBatch:
        columns: dict[str, pa.Array] = {}
        table = self._entities.table
        if table is not None:
            part = table.slice(offset, batch.num_rows)
            for name in table.column_names:
                columns[name] = part.column(name).combine_chunks()
        else:
            for name in self._entities.schema.names:
                columns[name] = batch.column(name)
        for out in self._outputs:
            if out.scan >= 0:
                alias = self._scans[out.scan].alias(out.scan, out.feature)
                columns[out.name] = batch.column(alias)
        for inputs in self._on_demand:
            computed = inputs.view.compute(self._on_demand_frame(inputs, batch, columns))
            for out in self._outputs:
                if out.on_demand is inputs.view:
                    columns[out.name] = computed.get_column(out.feature).to_arrow()
        arrays = [_cast(columns[f.name], f.type) for f in self._schema]
        return pa.RecordBatch.from_arrays(arrays, schema=self._schema)

    def _on_demand_frame(
        self, inputs: OnDemandInputs, batch: pa.RecordBatch, columns: dict[str, pa.Array]
    ) -> pl.DataFrame:
        data: dict[str, pa.Array] = {}
        for scan_index, feature in inputs.features:
            data[feature] = batch.column(self._scans[scan_index].alias(scan_index, feature))
        for name in inputs.request_fields:
            data[name] = columns[name]
        frame = pl.from_arrow(pa.table(data))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def _error(self, exc: Exception) -> Exception:
        views = sorted({s.view.name for s in self._scans})
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for scan in self._scans:
            for path in scan.files.paths:
                if path in str(exc):
                    msg = (
                        f"view {scan.view.name!r}: cannot read {path!r} ({first}); "
                        "expected a readable Parquet file"
                    )
                    return SourceDataError(msg)
        files = self._entities.files
        if files is not None and any(p in str(exc) for p in files.paths):
            return unreadable(files.url, exc, owner="entity_df")
        msg = f"reading the data of views {views} failed: {first}"
        return SourceDataError(msg)


def _cast(array: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == target else array.cast(target)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    to_pydatetime = getattr(value, "to_pydatetime", None)
    return to_pydatetime() if to_pydatetime is not None else None

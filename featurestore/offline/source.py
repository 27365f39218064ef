"""Opening a ``ParquetSource``'s data through fsspec: a file, a directory, a glob, or a
hive-partitioned dataset, locally or on any filesystem fsspec knows.

Two readers share one listing of files: pyarrow datasets (``open_dataset``, used by plan-time
checks) and DuckDB (``SourceFiles.scan``, used by training frames and materialization).

Files are always ordered by their full path. That order is part of the point-in-time rule:
among rows with equal event and created timestamps, the row in the later file wins, and
within a file the later row (see ``featurestore.offline.retrieval``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from fsspec.implementations.local import LocalFileSystem

from featurestore.definitions import ParquetSource
from featurestore.errors import SourceDataError

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

_GLOB_CHARS = set("*?[")
_IGNORED_PREFIXES = (".", "_")  # _SUCCESS, .crc and the like, as pyarrow datasets skip them


def source_url(store: FeatureStore, source: ParquetSource) -> str:
    """The source's path as a URL or absolute path (relative paths are under the repo)."""
    return store.resolve_path(source.path)


def arrow_filesystem(fs: fsspec.AbstractFileSystem) -> pafs.FileSystem:
    """The pyarrow filesystem for an fsspec one (native for local disk)."""
    if isinstance(fs, LocalFileSystem):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


@dataclass(frozen=True)
class SourceFiles:
    """The Parquet files behind a URL, sorted by full path."""

    url: str
    fs: fsspec.AbstractFileSystem
    paths: tuple[str, ...]  # as the filesystem names them (no protocol)
    hive: bool  # a directory with ``key=value`` folders: partition keys become columns
    root: str = ""  # the directory, when ``url`` is one

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def duckdb_paths(self) -> list[str]:
        """Paths DuckDB can open once ``register`` has run on its connection."""
        if self.is_local:
            return list(self.paths)
        return [self.fs.unstrip_protocol(p) for p in self.paths]

    def register(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Let DuckDB read these files through fsspec (local files are read natively)."""
        if self.is_local:
            return
        protocol = self.fs.protocol
        name = protocol if isinstance(protocol, str) else protocol[0]
        if not conn.filesystem_is_registered(name):
            conn.register_filesystem(self.fs)

    def scan(self, *, row_numbers: bool = True) -> str:
        """A DuckDB ``read_parquet(...)`` over the files, with ``file_index`` (position in the
        sorted list) and ``file_row_number`` available as columns."""
        files = ", ".join(sql_string(p) for p in self.duckdb_paths)
        options = [
            f"hive_partitioning = {str(self.hive).lower()}",
            "union_by_name = true",
        ]
        if row_numbers:
            options.append("file_row_number = true")
        return f"read_parquet([{files}], {', '.join(options)})"

    def schema(self, conn: duckdb.DuckDBPyConnection, *, owner: str = "") -> pa.Schema:
        """The columns of the data (hive partition keys included), as Arrow types."""
        try:
            return conn.sql(f"SELECT * FROM {self.scan(row_numbers=False)} LIMIT 0").arrow().schema
        except duckdb.Error as exc:
            raise unreadable(self.url, exc, owner) from None


def list_files(url: str, *, owner: str = "") -> SourceFiles:
    """List the Parquet files at ``url`` (a file, a directory, or a glob), through fsspec.

    Raises ``SourceDataError`` naming ``owner`` and the location when nothing is there.
    """
    prefix = f"{owner}: " if owner else ""
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        msg = f"{prefix}cannot open {url!r}: {exc}"
        raise SourceDataError(msg) from None
    try:
        if _GLOB_CHARS & set(path):
            found = [p for p in fs.glob(path) if fs.isfile(p)]
            if not found:
                msg = f"{prefix}no files match the source path {url!r}"
                raise SourceDataError(msg)
            return SourceFiles(url, fs, tuple(sorted(found)), hive=False)
        if not fs.exists(path):
            msg = (
                f"{prefix}source path {url!r} does not exist (expected a Parquet file or directory)"
            )
            raise SourceDataError(msg)
        if not fs.isdir(path):
            return SourceFiles(url, fs, (path,), hive=False)
        root = path.rstrip("/")
        found = [
            p for p in fs.find(root) if not _ignored(posixpath.relpath(p, root)) and fs.isfile(p)
        ]
    except SourceDataError:
        raise
    except OSError as exc:
        msg = f"{prefix}cannot list {url!r}: {exc}"
        raise SourceDataError(msg) from None
    if not found:
        msg = f"{prefix}directory {url!r} has no Parquet files"
        raise SourceDataError(msg)
    hive = any("=" in part for p in found for part in posixpath.relpath(p, root).split("/")[:-1])
    return SourceFiles(url, fs, tuple(sorted(found)), hive=hive, root=root)


def _ignored(relpath: str) -> bool:
    return any(part.startswith(_IGNORED_PREFIXES) for part in relpath.split("/"))


def unreadable(url: str, exc: Exception, owner: str = "") -> SourceDataError:
    """A ``SourceDataError`` for data DuckDB could not read (missing, corrupt, not Parquet)."""
    prefix = f"{owner}: " if owner else ""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    msg = f"{prefix}cannot read Parquet at {url!r} ({detail}); expected readable Parquet files"
    return SourceDataError(msg)


def sql_string(text: str) -> str:
    """``text`` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def open_dataset(store: FeatureStore, source: ParquetSource, *, view: str = "") -> ds.Dataset:
    """The source's Parquet data as a pyarrow dataset (hive partitions become columns).

    Raises ``SourceDataError`` naming the view and the location when there is no data or it
    is not Parquet.
    """
    url = source_url(store, source)
    files = list_files(url, owner=f"view {view!r}" if view else "")
    try:
        return ds.dataset(
            list(files.paths),
            format="parquet",
            filesystem=arrow_filesystem(files.fs),
            partitioning="hive" if files.hive else None,
            partition_base_dir=files.root if files.hive else None,
            exclude_invalid_files=False,
        )
    except (OSError, ValueError) as exc:
        owner = f"view {view!r}: " if view else ""
        msg = f"{owner}cannot read Parquet at {url!r}: {exc}"
        raise SourceDataError(msg) from None

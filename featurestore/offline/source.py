"""Opening a ``ParquetSource``'s data through fsspec: a file, a directory, a glob, or a
hive-partitioned dataset, locally or on any filesystem fsspec knows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import fsspec
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from fsspec.implementations.local import LocalFileSystem

from featurestore.definitions import ParquetSource
from featurestore.errors import SourceDataError

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

_GLOB_CHARS = set("*?[")


def source_url(store: FeatureStore, source: ParquetSource) -> str:
    """The source's path as a URL or absolute path (relative paths are under the repo)."""
    return store.resolve_path(source.path)


def arrow_filesystem(fs: fsspec.AbstractFileSystem) -> pafs.FileSystem:
    """The pyarrow filesystem for an fsspec one (native for local disk)."""
    if isinstance(fs, LocalFileSystem):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def open_dataset(store: FeatureStore, source: ParquetSource, *, view: str = "") -> ds.Dataset:
    """The source's Parquet data as a pyarrow dataset (hive partitions become columns).

    Raises ``SourceDataError`` naming the view and the location when there is no data or it
    is not Parquet.
    """
    url = source_url(store, source)
    owner = f"view {view!r}: " if view else ""
    fs, path = fsspec.core.url_to_fs(url)
    try:
        if _GLOB_CHARS & set(path):
            files = sorted(p for p in fs.glob(path) if fs.isfile(p))
            if not files:
                msg = f"{owner}no files match the source path {url!r}"
                raise SourceDataError(msg)
            return ds.dataset(files, format="parquet", filesystem=arrow_filesystem(fs))
        if not fs.exists(path):
            msg = (
                f"{owner}source path {url!r} does not exist (expected a Parquet file or directory)"
            )
            raise SourceDataError(msg)
        return ds.dataset(
            path,
            format="parquet",
            filesystem=arrow_filesystem(fs),
            partitioning="hive" if fs.isdir(path) else None,
            exclude_invalid_files=False,
        )
    except SourceDataError:
        raise
    except (OSError, ValueError) as exc:
        msg = f"{owner}cannot read Parquet at {url!r}: {exc}"
        raise SourceDataError(msg) from None

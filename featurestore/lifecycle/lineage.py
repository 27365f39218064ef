"""Lineage facts: the files a source had, and fingerprints of Arrow tables.

A table's fingerprint depends only on its column names, Arrow types and values (nulls
included), not on how it is chunked or sliced or which library version wrote it: a null
mask, then fixed-width values with nulls zeroed, strings and binaries as their lengths and
bytes, other types (lists, structs, ...) as JSON of their Python values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from featurestore.offline.source import list_files

if TYPE_CHECKING:
    from featurestore.store import FeatureStore


@dataclass(frozen=True)
class SourceFile:
    """One file of a source as it was: path (an fsspec URL off local disk), size, and its
    modification time and/or etag as the filesystem reports them."""

    path: str
    size: int
    mtime: datetime | None = None
    etag: str = ""


def source_files(store: FeatureStore, path: str, *, view: str = "") -> list[SourceFile]:
    """The files behind a source path (relative to the repo or a URL), as training frames
    and materialization list them (sorted by path); files inside the repo are named
    relative to it."""
    files = list_files(store.resolve_path(path), owner=f"view {view!r}" if view else "")
    out = []
    for file in files.paths:
        info = files.fs.info(file)
        name = repo_relative(store, file) if files.is_local else files.fs.unstrip_protocol(file)
        out.append(
            SourceFile(
                path=name,
                size=int(info.get("size") or 0),
                mtime=_mtime(info),
                etag=str(info.get("ETag") or info.get("etag") or info.get("md5Hash") or ""),
            )
        )
    return out


def repo_relative(store: FeatureStore, path: str) -> str:
    """A local path relative to the repo root when it is inside the repo (so records stay
    valid when the repo is cloned elsewhere), else unchanged."""
    if "://" in path:
        return path
    try:
        return Path(path).resolve().relative_to(store.repo_path).as_posix()
    except ValueError:
        return path


def _mtime(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(float(value), UTC)
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def table_fingerprint(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types and values (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(f"rows={table.num_rows}\0".encode())
    for name, column in zip(table.column_names, table.columns, strict=True):
        digest.update(f"{name}\0{column.type}\0".encode())
        _hash_array(digest, column.combine_chunks())
    return digest.hexdigest()


def _hash_array(digest: Any, array: pa.Array) -> None:
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    fixed = (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or (pa.types.is_temporal(kind) and kind.bit_width in (32, 64))
    )
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        array = array.cast(pa.large_binary())
        kind = array.type
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        _hash_binary(digest, array)
        return
    if not fixed:
        text = json.dumps(array.to_pylist(), default=str, separators=(",", ":"))
        digest.update(text.encode())
        return
    nulls = array.is_null().to_numpy(zero_copy_only=False).astype(np.uint8)
    if pa.types.is_temporal(kind):
        array = array.view(pa.int32() if kind.bit_width == 32 else pa.int64())
    zero = pa.scalar(False if pa.types.is_boolean(kind) else 0, array.type)
    values = pc.fill_null(array, zero)
    digest.update(nulls.tobytes())
    digest.update(np.ascontiguousarray(values.to_numpy(zero_copy_only=False)).tobytes())


def _hash_binary(digest: Any, array: pa.Array) -> None:
    """Null mask, value lengths, then the values' bytes back to back."""
    nulls = array.is_null().to_numpy(zero_copy_only=False).astype(np.uint8)
    filled = pc.fill_null(array, pa.scalar(b"", array.type)).cast(pa.large_binary())
    lengths = pc.binary_length(filled).cast(pa.int64()).to_numpy(zero_copy_only=False)
    offsets = np.frombuffer(filled.buffers()[1], dtype=np.int64)
    start, end = offsets[filled.offset], offsets[filled.offset + len(filled)]
    data = filled.buffers()[2]
    digest.update(nulls.tobytes())
    digest.update(np.ascontiguousarray(lengths).tobytes())
    if data is not None:
        digest.update(memoryview(data)[start:end])

"""Per-view watermarks: up to when each view has been materialized.

Kept as JSON at ``registry.state_url("watermarks.json")``, next to the registry, replaced
atomically (temp file then rename locally, one PUT on object stores) under a file lock, and
advanced only after a view fully succeeded. Each entry remembers the view's schema version:
a view whose stored layout changed has no watermark until it is materialized again.

    {"member_activity": {"end": "2026-11-24T00:00:00+00:00", "version": "3f2a9c01de"}}
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
from filelock import FileLock
from fsspec.implementations.local import LocalFileSystem

from featurestore._atomic import write_atomic
from featurestore.definitions import FeatureView
from featurestore.errors import RegistryError
from featurestore.online._pack import codec_for

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

STATE_NAME = "watermarks.json"
_THREAD_LOCK = threading.Lock()


def get_watermark(store: FeatureStore, view: FeatureView | str) -> datetime | None:
    """The end of the last fully successful materialization of ``view``, or None."""
    if isinstance(view, str):
        view = store.definitions().feature_view(view)
    entry = _read(store).get(view.name)
    if not isinstance(entry, dict) or entry.get("version") != codec_for(view).schema_version:
        return None
    return datetime.fromisoformat(entry["end"])


def all_watermarks(store: FeatureStore) -> dict[str, datetime]:
    """Every current view's watermark (views never materialized are absent)."""
    out = {}
    for view in store.definitions().feature_views.values():
        mark = get_watermark(store, view)
        if mark is not None:
            out[view.name] = mark
    return out


def advance(store: FeatureStore, marks: Mapping[FeatureView, datetime]) -> None:
    """Move each view's watermark forward to its datetime (never backwards)."""
    if not marks:
        return
    url = store.registry.state_url(STATE_NAME)
    with _locked(url):
        data = _read(store)
        for view, end in marks.items():
            version = codec_for(view).schema_version
            entry = data.get(view.name)
            if isinstance(entry, dict) and entry.get("version") == version:
                end = max(end, datetime.fromisoformat(entry["end"]))
            data[view.name] = {"end": end.astimezone(UTC).isoformat(), "version": version}
        _write(url, json.dumps(data, indent=2, sort_keys=True).encode())


def _read(store: FeatureStore) -> dict[str, Any]:
    url = store.registry.state_url(STATE_NAME)
    fs, path = fsspec.core.url_to_fs(url)
    try:
        raw = fs.cat_file(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise RegistryError(f"cannot read watermarks at {url}: {exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"watermarks at {url} are not valid JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _write(url: str, data: bytes) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    try:
        write_atomic(fs, path, data)
    except OSError as exc:
        raise RegistryError(f"cannot write watermarks at {url}: {exc}") from exc


@contextmanager
def _locked(url: str) -> Iterator[None]:
    """Serialize read-modify-write of the file between threads and (locally) processes."""
    fs, path = fsspec.core.url_to_fs(url)
    with _THREAD_LOCK:
        if isinstance(fs, LocalFileSystem):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with FileLock(f"{path}.lock", timeout=60):
                yield
        else:
            yield

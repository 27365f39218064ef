"""Materialization: the latest value per entity of each online view into the online store.

Per view, DuckDB computes the latest rows in the window (``latest``), one hash partition
of the entities at a time, in a reader thread while the previous batches are written, so
reading and writing overlap and memory follows a partition and a few batches. A view's
watermark moves only after all of its batches were written; a rerun of the same window
writes the same values (the store keeps the newer of two, ties go to the incoming one),
so a failed run is simply run again.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from featurestore.definitions import FeatureView
from featurestore.errors import FeatureStoreError, OnlineStoreUnavailableError, RequestError
from featurestore.materialize import watermarks
from featurestore.materialize.latest import latest_batches
from featurestore.materialize.result import ViewMaterialization
from featurestore.online._pack import pack_batch
from featurestore.online.base import WriteBatch

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

Progress = Callable[[str, int], None]  # (view name, rows written so far)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # window start of a view with no ttl or watermark


def materialize(
    store: FeatureStore,
    start: datetime,
    end: datetime,
    *,
    views: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> list[ViewMaterialization]:
    """Write the latest row per entity with event time in ``[start, end]`` for each view.

    A view that fails (bad source data, ...) gets an ``error`` and keeps its watermark; the
    others still run. An unreachable online store stops the job with
    ``OnlineStoreUnavailableError`` (views finished before it keep their new watermark).
    """
    start, end = utc(start), utc(end)
    if start > end:
        msg = f"materialize: start {start.isoformat()} is after end {end.isoformat()}"
        raise RequestError(msg)
    return [_run_view(store, view, start, end, progress) for view in select_views(store, views)]


def materialize_incremental(
    store: FeatureStore,
    end: datetime,
    *,
    views: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> list[ViewMaterialization]:
    """Materialize each view from its watermark (else ``end - ttl``, else the beginning)
    up to ``end``. A view already past ``end`` is reported with 0 rows."""
    end = utc(end)
    results = []
    for view in select_views(store, views):
        mark = watermarks.get_watermark(store, view)
        if mark is not None:
            start = mark
        elif view.ttl is not None:
            start = end - view.ttl
        else:
            start = EARLIEST
        if start > end:
            results.append(ViewMaterialization(view.name, start, end, 0, 0.0))
            continue
        results.append(_run_view(store, view, start, end, progress))
    return results


def select_views(store: FeatureStore, names: Sequence[str] | None) -> list[FeatureView]:
    """The named views (each must be online), or every online view."""
    defs = store.definitions()
    if names is None:
        return [v for v in defs.feature_views.values() if v.online]
    chosen = []
    for name in dict.fromkeys(names):
        view = defs.feature_view(name)
        if not view.online:
            msg = f"view {name!r} has online=False, so it is not materialized; set online=True"
            raise RequestError(msg)
        chosen.append(view)
    return chosen


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (naive datetimes are read as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _run_view(
    store: FeatureStore,
    view: FeatureView,
    start: datetime,
    end: datetime,
    progress: Progress | None,
) -> ViewMaterialization:
    began = time.perf_counter()
    try:
        rows = _write_view(store, view, start, end, progress)
    except OnlineStoreUnavailableError:
        raise
    except FeatureStoreError as exc:
        seconds = time.perf_counter() - began
        return ViewMaterialization(view.name, start, end, 0, seconds, error=str(exc))
    watermarks.advance(store, {view: end})
    return ViewMaterialization(view.name, start, end, rows, time.perf_counter() - began)


def _write_view(
    store: FeatureStore,
    view: FeatureView,
    start: datetime,
    end: datetime,
    progress: Progress | None,
) -> int:
    """Packed batches come from a reader thread (DuckDB and packing work while Redis
    writes: both release the GIL) through a small queue, so memory holds at most a few
    batches besides DuckDB's own."""
    batches: queue.Queue[WriteBatch | BaseException | None] = queue.Queue(maxsize=3)
    stop = threading.Event()

    def hand_over(item: WriteBatch | BaseException | None) -> bool:
        """Queue ``item`` unless the writer has stopped (it may never read again)."""
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in latest_batches(store, view, start, end):
                if not hand_over(pack_batch(view, batch)):
                    return
            hand_over(None)
        except BaseException as exc:  # handed to the writer, which raises it
            hand_over(exc)

    reader = threading.Thread(target=read, name=f"materialize-{view.name}", daemon=True)
    reader.start()
    rows = 0
    if progress is not None:
        progress(view.name, 0)  # the view has started
    try:
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            store.online_store.write(item)
            rows += len(item.keys)
            if progress is not None:
                progress(view.name, rows)
    finally:
        stop.set()
        reader.join()
    return rows

"""Is a training dataset still what the store would make now? And if not, what changed?

``verify_training_dataset`` makes the frame again from the stored entity rows with the
current definitions and the sources as they are now, compares it with the recorded frame
fingerprint, and attributes a difference to definitions (views whose data fingerprint
changed or that were removed) and to data (files added, removed or modified).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from featurestore.errors import FeatureStoreError
from featurestore.lifecycle.datasets import get_training_dataset
from featurestore.lifecycle.lineage import SourceFile, source_files, table_fingerprint
from featurestore.lifecycle.records import TrainingDataset
from featurestore.repo.fingerprint import data_fingerprint

if TYPE_CHECKING:
    from featurestore.store import FeatureStore


@dataclass(frozen=True)
class DefinitionChange:
    """A view whose data fingerprint differs now (``new`` empty: the view was removed)."""

    view: str
    old: str
    new: str


@dataclass(frozen=True)
class FileChange:
    """A source file that was ``added``, ``removed`` or ``modified`` since the dataset."""

    view: str
    path: str
    change: str
    old: SourceFile | None = None
    new: SourceFile | None = None


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of ``verify_training_dataset``."""

    dataset: TrainingDataset
    matches: bool
    stored_intact: bool  # the stored Parquet still has the recorded fingerprint
    definition_changes: tuple[DefinitionChange, ...]
    file_changes: tuple[FileChange, ...]
    differing_columns: tuple[str, ...] = ()
    recomputed_rows: int | None = None
    error: str = ""

    def lines(self) -> list[str]:
        """The report as plain sentences, one per line."""
        d = self.dataset
        head = "matches" if self.matches else "does NOT match"
        out = [f"training dataset {d.name!r} ({d.row_count} rows) {head} a fresh recompute"]
        if not self.stored_intact:
            out.append(f"the stored frame at {d.uri} no longer has the recorded fingerprint")
        if self.error:
            out.append(f"recompute failed: {self.error}")
        if self.recomputed_rows is not None and self.recomputed_rows != d.row_count:
            out.append(f"row count: {d.row_count} recorded, {self.recomputed_rows} now")
        if self.differing_columns:
            out.append(f"columns that differ: {', '.join(self.differing_columns)}")
        for c in self.definition_changes:
            now = f"now {c.new[:12]}" if c.new else "view removed"
            out.append(f"definitions changed: view {c.view!r} (was {c.old[:12]}, {now})")
        for f in self.file_changes:
            out.append(f"data changed: view {f.view!r}: {f.change} {f.path}{_detail(f)}")
        if not self.matches and not self.definition_changes and not self.file_changes:
            out.append("no definition or file change found; the sources' content differs")
        return out


def verify_training_dataset(store: FeatureStore, name: str) -> VerifyReport:
    """Make the dataset ``name`` again and compare (see the module docstring)."""
    dataset = get_training_dataset(store, name)
    stored = dataset.to_arrow()
    stored_intact = table_fingerprint(stored) == dataset.frame_fingerprint
    definition_changes = _definition_changes(store, dataset)
    file_changes = _file_changes(store, dataset)
    entity_rows = stored.select(list(dataset.entity_columns))
    try:
        fresh = store.get_historical_features(
            entity_rows,
            list(dataset.feature_refs),
            full_feature_names=dataset.full_feature_names,
            filter_by_created_timestamp=dataset.filter_by_created_timestamp,
        ).to_arrow()
    except FeatureStoreError as exc:
        return VerifyReport(
            dataset, False, stored_intact, definition_changes, file_changes, error=str(exc)
        )
    matches = table_fingerprint(fresh) == dataset.frame_fingerprint
    return VerifyReport(
        dataset,
        matches,
        stored_intact,
        definition_changes,
        file_changes,
        differing_columns=() if matches else _differing_columns(stored, fresh),
        recomputed_rows=fresh.num_rows,
    )


def _definition_changes(
    store: FeatureStore, dataset: TrainingDataset
) -> tuple[DefinitionChange, ...]:
    defs = store.definitions()
    out = []
    for lineage in dataset.views:
        try:
            view = defs.get(lineage.view)
        except FeatureStoreError:
            out.append(DefinitionChange(lineage.view, lineage.data_fingerprint, ""))
            continue
        now = data_fingerprint(view, defs)
        if now != lineage.data_fingerprint:
            out.append(DefinitionChange(lineage.view, lineage.data_fingerprint, now))
    return tuple(out)


def _file_changes(store: FeatureStore, dataset: TrainingDataset) -> tuple[FileChange, ...]:
    out: list[FileChange] = []
    for lineage in dataset.views:
        if not lineage.source:
            continue
        try:
            current = {f.path: f for f in source_files(store, lineage.source, view=lineage.view)}
        except FeatureStoreError:
            current = {}
        recorded = {f.path: f for f in lineage.files}
        for path in sorted({*recorded, *current}):
            old, new = recorded.get(path), current.get(path)
            if old is None:
                out.append(FileChange(lineage.view, path, "added", None, new))
            elif new is None:
                out.append(FileChange(lineage.view, path, "removed", old, None))
            elif (old.size, old.mtime, old.etag) != (new.size, new.mtime, new.etag):
                out.append(FileChange(lineage.view, path, "modified", old, new))
    return tuple(out)


def _differing_columns(stored: pa.Table, fresh: pa.Table) -> tuple[str, ...]:
    names = [*stored.column_names, *(c for c in fresh.column_names if c not in stored.column_names)]
    out = []
    for name in names:
        present = name in stored.column_names and name in fresh.column_names
        if not present or not stored.column(name).equals(fresh.column(name)):
            out.append(name)
    return tuple(out)


def _detail(f: FileChange) -> str:
    if f.change != "modified" or f.old is None or f.new is None:
        return ""
    parts = []
    if f.old.size != f.new.size:
        parts.append(f"size {f.old.size} -> {f.new.size}")
    if f.old.mtime != f.new.mtime:
        parts.append(f"mtime {_iso(f.old)} -> {_iso(f.new)}")
    if f.old.etag != f.new.etag:
        parts.append(f"etag {f.old.etag or '-'} -> {f.new.etag or '-'}")
    return f" ({', '.join(parts)})"


def _iso(f: SourceFile) -> str:
    return f.mtime.isoformat(timespec="seconds") if f.mtime else "-"

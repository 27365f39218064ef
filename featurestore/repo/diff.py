"""Differences between two sets of definitions, object by object and field by field.

Each changed field is classified:

* **breaking**: values or their meaning change for existing readers: a type, a removed
  feature, join keys, entities, the source (path, timestamp columns, field mapping, kind),
  the transformation, ttl, a removed object or a feature removed from a service;
* **non-breaking**: existing readers are unaffected: a new feature, a new object, a feature
  added to a service, the ``online`` flag, the ``schedule``, the order of features;
* **metadata**: owner, tags and descriptions (also of fields and sources).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from featurestore.definitions import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    OnDemandFeatureView,
    PushSource,
)
from featurestore.definitions.collection import KINDS, Definition, Definitions


class Severity(Enum):
    """How a change affects readers of a definition; ordered from mildest to worst."""

    METADATA = "metadata"
    NON_BREAKING = "non-breaking"
    BREAKING = "breaking"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class FieldChange:
    """One attribute of a definition that differs (``old`` None: added; ``new`` None:
    removed)."""

    field: str
    old: str | None
    new: str | None
    severity: Severity


@dataclass(frozen=True)
class ObjectChange:
    """An added, changed or removed definition."""

    kind: str
    name: str
    action: str  # "add" | "change" | "remove"
    fields: tuple[FieldChange, ...] = ()

    @property
    def severity(self) -> Severity:
        if self.action == "add":
            return Severity.NON_BREAKING
        if self.action == "remove":
            return Severity.BREAKING
        return max((f.severity for f in self.fields), key=lambda s: s.rank)


def diff_definitions(old: Definitions | None, new: Definitions) -> list[ObjectChange]:
    """What changes from ``old`` (None: an empty registry) to ``new``, in kind then name
    order."""
    changes: list[ObjectChange] = []
    if old is not None and old.project != new.project:
        project = FieldChange("name", old.project, new.project, Severity.BREAKING)
        changes.append(ObjectChange("project", new.project, "change", (project,)))
    before = {(type(o), o.name): o for o in (old.all() if old else [])}
    after = {(type(o), o.name): o for o in new.all()}
    for kind in KINDS:
        names = sorted({n for k, n in [*before, *after] if k is kind})
        for name in names:
            a, b = before.get((kind, name)), after.get((kind, name))
            if a is None:
                changes.append(ObjectChange(KINDS[kind], name, "add"))
            elif b is None:
                changes.append(ObjectChange(KINDS[kind], name, "remove"))
            else:
                fields = diff_object(a, b)
                if fields:
                    changes.append(ObjectChange(KINDS[kind], name, "change", tuple(fields)))
    return changes


def diff_object(old: Definition, new: Definition) -> list[FieldChange]:
    """The fields that differ between two versions of one definition."""
    a, b = attributes(old), attributes(new)
    out = []
    for key in [*a, *(k for k in b if k not in a)]:
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        if key == "feature order" and sorted(str(before).split(", ")) != sorted(
            str(after).split(", ")
        ):
            continue  # features were added or removed; those lines say it
        out.append(FieldChange(key, before, after, classify(key, before, after)))
    return out


def classify(key: str, old: str | None, new: str | None) -> Severity:
    """The severity of a change to the attribute ``key`` (as named by ``attributes``)."""
    last = key.rsplit(".", 1)[-1]
    if last in {"owner", "tags", "description"}:
        return Severity.METADATA
    if key in {"online", "schedule", "feature order"}:
        return Severity.NON_BREAKING
    if key.startswith("schema.") and old is None:
        return Severity.NON_BREAKING  # a new feature
    if key.startswith("features.") and old is not None and new is not None:
        removed = set(old.split(", ")) - set(new.split(", "))
        return Severity.BREAKING if removed else Severity.NON_BREAKING
    if key.startswith("features.") and old is None:
        return Severity.NON_BREAKING  # a view added to a service
    return Severity.BREAKING


def attributes(obj: Definition) -> dict[str, str]:
    """A definition as a flat, ordered ``{attribute: displayed value}``; absent or empty
    values are left out."""
    out: dict[str, str] = {}
    if isinstance(obj, Entity):
        out["join_keys"] = ", ".join(f"{k} {t}" for k, t in obj.key_schema.items())
    elif isinstance(obj, FeatureView):
        out["entities"] = ", ".join(e.name for e in obj.entities)
        out["join_keys"] = ", ".join(f"{k} {t}" for k, t in obj.key_schema.items())
        out.update(_schema(obj.schema))
        out.update(_source(obj))
        out["ttl"] = format_ttl(obj.ttl)
        out["online"] = str(obj.online)
        out["schedule"] = obj.schedule
    elif isinstance(obj, OnDemandFeatureView):
        out["sources"] = ", ".join(
            f"view {s.name}" if isinstance(s, FeatureView) else f"request {s.name}"
            for s in obj.sources
        )
        for req in obj.request_sources:
            out[f"request.{req.name}"] = ", ".join(f"{f.name} {f.dtype}" for f in req.schema)
        out.update(_schema(obj.schema))
        out["transform"] = f"{obj.function} (source {obj.source_hash[:12]})"
    elif isinstance(obj, FeatureService):
        for entry in obj.entries:
            out[f"features.{entry.view}"] = ", ".join(entry.features)
    out["owner"] = obj.owner
    out["tags"] = _tags(obj.tags)
    out["description"] = obj.description
    return {k: v for k, v in out.items() if v}


def format_ttl(ttl: timedelta | None) -> str:
    """``1d 2h``-style ttl; empty for no limit."""
    if not ttl:
        return ""
    seconds = int(ttl.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or f"{ttl.total_seconds()}s"


def _schema(fields: tuple[Field, ...]) -> dict[str, str]:
    out = {f"schema.{f.name}": str(f.dtype) for f in fields}
    for f in fields:
        out[f"schema.{f.name}.description"] = f.description
        out[f"schema.{f.name}.tags"] = _tags(f.tags)
    out["feature order"] = ", ".join(f.name for f in fields)
    return out


def _source(view: FeatureView) -> dict[str, str]:
    batch = view.batch_source
    out = {}
    if isinstance(view.source, PushSource):
        out["source.push"] = view.source.name
        out["source.description"] = view.source.description
    out["source.path"] = batch.path
    out["source.timestamp_field"] = batch.timestamp_field
    out["source.created_timestamp_column"] = batch.created_timestamp_column
    out["source.field_mapping"] = _tags(batch.field_mapping, sep=" -> ")
    return out


def _tags(tags: Mapping[str, str], sep: str = "=") -> str:
    return ", ".join(f"{k}{sep}{v}" for k, v in sorted(tags.items()))

"""Fingerprints of definitions: one for what affects data, one for metadata.

Both are SHA-256 hex digests of the definition's canonical protobuf form (deterministic
serialization), so they are stable across processes and releases of Python.

* ``data_fingerprint``: name, schema and types, join keys and their types, entities, source,
  ttl, transformation (import path and source hash), and for views built on other views
  (on-demand views, services given ``definitions``) those views' data fingerprints. Owner,
  tags, descriptions, ``online`` and ``schedule`` are left out: they change no value.
* ``metadata_fingerprint``: owner, tags and descriptions (also of fields).

>>> from featurestore import Entity
>>> a = Entity(name="member", join_keys=["member_id"], owner="ana")
>>> b = Entity(name="member", join_keys=["member_id"], owner="bo")
>>> data_fingerprint(a) == data_fingerprint(b), metadata_fingerprint(a) == metadata_fingerprint(b)
(True, False)
"""

from __future__ import annotations

import hashlib
import json

from google.protobuf.message import Message

from featurestore.definitions import FeatureService, FeatureView, OnDemandFeatureView
from featurestore.definitions.collection import KINDS, Definition, Definitions
from featurestore.registry._convert import definition_to_proto

METADATA_FIELDS = frozenset({"owner", "tags", "description"})
# Settings of a feature view that change when or where values are served, not the values.
SERVING_FIELDS = frozenset({"online", "schedule"})


def data_fingerprint(obj: Definition, definitions: Definitions | None = None) -> str:
    """SHA-256 of what determines ``obj``'s data.

    A feature service refers to views by name; pass ``definitions`` to fold those views'
    data fingerprints in (without it, only the service's own feature list counts).
    """
    msg = definition_to_proto(obj)
    _strip(msg, METADATA_FIELDS | SERVING_FIELDS)
    digest = hashlib.sha256()
    digest.update(KINDS[type(obj)].encode() + b"\0")
    digest.update(msg.SerializeToString(deterministic=True))
    for dep in _dependencies(obj, definitions):
        digest.update(b"\0" + data_fingerprint(dep, definitions).encode())
    return digest.hexdigest()


def metadata_fingerprint(obj: Definition) -> str:
    """SHA-256 of ``obj``'s owner, tags and descriptions (including its fields')."""
    found = _metadata(definition_to_proto(obj), "")
    text = json.dumps(found, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _dependencies(obj: Definition, definitions: Definitions | None) -> list[Definition]:
    if isinstance(obj, FeatureView):
        return list(obj.entities)
    if isinstance(obj, OnDemandFeatureView):
        return list(obj.source_views)
    if isinstance(obj, FeatureService) and definitions is not None:
        deps: list[Definition] = []
        for entry in obj.entries:
            if entry.view in definitions.feature_views:
                deps.append(definitions.feature_views[entry.view])
            elif entry.view in definitions.on_demand_feature_views:
                deps.append(definitions.on_demand_feature_views[entry.view])
        return deps
    return []


def _strip(msg: Message, names: frozenset[str]) -> None:
    """Clear the fields named ``names`` in ``msg`` and every message inside it."""
    for fd, value in msg.ListFields():
        if fd.name in names:
            msg.ClearField(fd.name)
        elif fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            for child in value if _is_repeated(fd) else [value]:
                _strip(child, names)


def _metadata(msg: Message, prefix: str) -> dict[str, object]:
    """Metadata values of ``msg`` and nested messages, keyed by a path such as
    ``schema.plays.description``."""
    out: dict[str, object] = {}
    for fd, value in msg.ListFields():
        path = f"{prefix}{fd.name}"
        if fd.name in METADATA_FIELDS:
            out[path] = dict(value) if fd.name == "tags" else value
        elif fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            children = value if _is_repeated(fd) else [value]
            for i, child in enumerate(children):
                key = getattr(child, "name", "") or str(i)
                out.update(_metadata(child, f"{path}.{key}."))
    return out


def _is_repeated(fd: object) -> bool:
    return bool(getattr(fd, "is_repeated", False))

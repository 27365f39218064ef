"""Broken definitions: each raises a DefinitionError naming file:line, the object, the field
and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from featurestore import (
    DefinitionError,
    Entity,
    FeatureService,
    FeatureView,
    Field,
    OnDemandFeatureView,
    ParquetSource,
    RequestSource,
)
from featurestore.types import Array, Float32, Int64

member = Entity(name="member", join_keys=["member_id"])
src = ParquetSource(path="data/a.parquet", created_timestamp_column="created")
plays = [Field("plays", Int64)]
fv = FeatureView(name="activity", entities=[member], schema=plays, source=src)
THIS_FILE = "test_definition_errors.py"

# (build the broken definition, kind, name, field, part of the message saying what is allowed)
CASES: list[tuple[Callable[[], Any], str, str, str, str]] = [
    (lambda: Entity(name="1member", join_keys=["id"]), "Entity", "1member", "name",
     "a name is a non-empty string of letters, digits and underscores"),  # bad name
    (lambda: Entity(name="member"), "Entity", "member", "join_keys",
     "is missing; give the key columns"),  # no join keys
    (lambda: Entity(name="member", join_keys=[]), "Entity", "member", "join_keys",
     "is empty; an entity needs at least one join key"),  # empty join keys
    (lambda: Entity(name="member", join_keys=["a", "a"]), "Entity", "member", "join_keys",
     "lists a key twice"),  # duplicate key
    (lambda: Entity(name="member", join_keys=["a"], value_type=Float32), "Entity", "member",
     "value_type", "a join key is Int32, Int64, String or Bytes"),  # float keys
    (lambda: Entity(name="member", join_keys=["a", "b"], value_type={"a": Int64}), "Entity",
     "member", "value_type", "give one type for all keys or a dict with each of"),  # partial
    (lambda: Entity(name="member", join_keys=["a"], tags={"tier": 1}), "Entity", "member",
     "tags", "tags are a dict of strings to strings"),  # non-string tag value
    (lambda: Entity(name="member", join_keys=["a"], owner=None), "Entity", "member", "owner",
     "expected a string"),  # owner not text
    (lambda: Field("plays", int), "Field", "plays", "dtype",
     "expected a type from featurestore.types"),  # python type instead of ours
    (lambda: FeatureView(name="v", schema=[], source=src), "FeatureView", "v", "schema",
     "expected a non-empty list of Field(name, dtype)"),  # empty schema
    (lambda: FeatureView(name="v", schema=[*plays, *plays], source=src), "FeatureView", "v",
     "schema", "lists field 'plays' twice"),  # duplicate feature
    (lambda: FeatureView(name="v", schema=["plays"], source=src), "FeatureView", "v", "schema",
     "every entry must be a Field"),  # a string instead of a Field
    (lambda: FeatureView(name="v", schema=plays, source="data/a.parquet"), "FeatureView", "v",
     "source", "expected a ParquetSource or a PushSource"),  # a path instead of a source
    (lambda: FeatureView(name="v", schema=plays, source=src, ttl=timedelta(seconds=-1)),
     "FeatureView", "v", "ttl", "expected a timedelta >= 0"),  # negative ttl
    (lambda: FeatureView(name="v", schema=plays, source=src, ttl="1d"), "FeatureView", "v",
     "ttl", "expected a timedelta >= 0, or None"),  # ttl as text
    (lambda: FeatureView(name="v", schema=plays, source=src, schedule="every day"),
     "FeatureView", "v", "schedule", "expected a cron expression"),  # bad schedule
    (lambda: FeatureView(name="v", schema=plays, source=src, online="yes"), "FeatureView", "v",
     "online", "expected True or False"),  # truthy string
    (lambda: FeatureView(name="v", entities=["member"], schema=plays, source=src),
     "FeatureView", "v", "entities", "every entry must be an Entity"),  # entity by name
    (lambda: FeatureView(name="v", entities=[member, Entity(name="m2", join_keys=["member_id"])],
                         schema=plays, source=src),
     "FeatureView", "v", "entities", "appear in more than one entity"),  # shared join key
    (lambda: FeatureView(name="v", entities=[member], schema=[Field("member_id", Int64)],
                         source=src),
     "FeatureView", "v", "schema", "is a join key; list only features"),  # key as feature
    (lambda: FeatureView(name="v", schema=[Field("created", Int64)], source=src),
     "FeatureView", "v", "schema", "is the source's created_timestamp_column"),  # ts as feature
    (lambda: ParquetSource(path=""), "ParquetSource", "", "path",
     "expected a path relative to the repo or an fsspec URL"),  # empty path
    (lambda: ParquetSource(path="a", created_timestamp_column="event_timestamp"),
     "ParquetSource", "a", "created_timestamp_column", "use a separate created column"),
    (lambda: ParquetSource(path="a", field_mapping={"x": 1}), "ParquetSource", "a",
     "field_mapping", "expected source column -> feature name strings"),  # bad mapping
    (lambda: RequestSource(name="req", schema="device"), "RequestSource", "req", "schema",
     "expected a non-empty list of Field"),  # schema as text
    (lambda: FeatureService(name="svc", features=[]), "FeatureService", "svc", "features",
     "expected a non-empty list of views"),  # empty service
    (lambda: FeatureService(name="svc", features=[fv, fv[["plays"]]]), "FeatureService", "svc",
     "features", "lists view(s) ['activity'] more than once"),  # a view twice
    (lambda: FeatureService(name="svc", features=["activity"]), "FeatureService", "svc",
     "features", "expected a FeatureView, an on-demand view or view[[...]]"),  # by name
    (lambda: fv[["nope"]], "FeatureView", "activity", "schema",
     "projection asks for ['nope']; the view has ['plays']"),  # unknown projected feature
    (lambda: OnDemandFeatureView(name="o", sources=[], schema=plays, function="m:f",
                                 source_hash="x"),
     "OnDemandFeatureView", "o", "sources", "expected a list of FeatureView and RequestSource"),
    (lambda: OnDemandFeatureView(name="o", sources=[fv], schema=plays, function="f",
                                 source_hash="x"),
     "OnDemandFeatureView", "o", "function", "expected 'module:function'"),  # no module
]  # fmt: skip


@pytest.mark.parametrize(("build", "kind", "name", "field", "allowed"), CASES)
def test_broken_definition_names_location_object_field_and_what_is_allowed(
    build: Callable[[], Any], kind: str, name: str, field: str, allowed: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        build()
    message = str(info.value)
    line = build.__code__.co_firstlineno
    assert message.startswith(f"tests/unit/definitions/{THIS_FILE}:{line}: ") or (
        f"{THIS_FILE}:{line}: " in message
    ), message
    assert f"{kind} {name!r}, field {field!r}: " in message
    assert allowed in message
    assert isinstance(info.value, ValueError)  # callers may catch the builtin too


def test_array_of_arrays_is_refused() -> None:
    with pytest.raises(DefinitionError, match="Array\\(\\) takes a scalar type"):
        Array(Array(Int64))

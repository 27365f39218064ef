"""Definitions are immutable values: equal ones compare and hash equal, wherever written."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from featurestore import (
    DefinitionError,
    Entity,
    FeatureService,
    FeatureView,
    Field,
    ParquetSource,
)
from featurestore.definitions.collection import Definitions
from featurestore.errors import NotFoundError
from featurestore.registry._convert import registry_from_proto, registry_to_proto
from featurestore.types import Int64


def make_view(owner: str = "ana") -> FeatureView:
    member = Entity(name="member", join_keys=["member_id"], tags={"pii": "no"})
    return FeatureView(
        name="activity",
        entities=[member],
        schema=[Field("plays", Int64)],
        source=ParquetSource(path="data/a.parquet", field_mapping={"p": "plays"}),
        ttl=timedelta(days=1),
        owner=owner,
        tags={"tier": "1"},
    )


def test_equal_definitions_compare_and_hash_equal_whatever_their_location() -> None:
    a = make_view()
    b = make_view()  # same values, built at another line
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != make_view(owner="bo")


def test_definitions_cannot_be_changed() -> None:
    view = make_view()
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.owner = "mallory"  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.tags["tier"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        view.source.field_mapping["q"] = "x"  # type: ignore[index]
    assert isinstance(view.schema, tuple) and isinstance(view.entities, tuple)


def test_mutating_the_input_list_does_not_change_the_definition() -> None:
    keys = ["member_id"]
    member = Entity(name="member", join_keys=keys)
    keys.append("other")
    assert member.join_keys == ("member_id",)


def test_registry_round_trip_keeps_every_definition_equal() -> None:
    view = make_view()
    svc = FeatureService("svc", [view[["plays"]]], owner="ml")
    defs = Definitions.build("p", [*view.entities, view, svc])
    back = registry_from_proto(registry_to_proto(defs))
    assert back == defs
    assert back.feature_views["activity"] == view


def test_two_definitions_with_one_name_name_both_locations() -> None:
    a = Entity(name="member", join_keys=["a"])
    b = Entity(name="member", join_keys=["b"])
    with pytest.raises(DefinitionError) as info:
        Definitions.build("p", [a, b])
    assert a.location in str(info.value) and b.location in str(info.value)
    assert a.location != b.location


def test_a_view_on_an_entity_missing_from_the_repo_is_an_error() -> None:
    view = make_view()
    with pytest.raises(DefinitionError, match="uses entity 'member', which is not defined"):
        Definitions.build("p", [view])


def test_lookup_of_an_unknown_name_lists_what_exists() -> None:
    view = make_view()
    defs = Definitions.build("p", [*view.entities, view])
    with pytest.raises(NotFoundError, match=r"unknown feature 'activity:nope': view 'activity'"):
        defs.select(["activity:nope"])
    with pytest.raises(NotFoundError, match="no entity, view or service named 'x'"):
        defs.get("x")

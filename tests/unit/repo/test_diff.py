"""Field-by-field differences between definitions and how severe each one is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from featurestore import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    OnDemandFeatureView,
    ParquetSource,
    PushSource,
    RequestSource,
)
from featurestore.definitions.collection import Definitions
from featurestore.repo.diff import Severity, diff_definitions, diff_object, format_ttl
from featurestore.types import Float32, Float64, Int32, Int64, String

B, N, M = Severity.BREAKING, Severity.NON_BREAKING, Severity.METADATA
member = Entity(name="member", join_keys=["member_id"])
title = Entity(name="title", join_keys=["title_id"])


def view(**overrides: Any) -> FeatureView:
    kwargs: dict[str, Any] = {
        "name": "activity",
        "entities": [member],
        "schema": [Field("plays", Int64), Field("minutes", Float32)],
        "source": ParquetSource(path="data/a.parquet"),
        "ttl": timedelta(days=1),
        "online": True,
        "schedule": "@hourly",
        "owner": "ana",
        "tags": {"tier": "1"},
        "description": "what members watch",
    }
    kwargs.update(overrides)
    return FeatureView(**kwargs)


def odfv(**overrides: Any) -> OnDemandFeatureView:
    kwargs: dict[str, Any] = {
        "name": "ratio",
        "sources": [view(), RequestSource("req", [Field("device", String)])],
        "schema": [Field("r", Float64)],
        "function": "features:ratio",
        "source_hash": "a" * 64,
    }
    kwargs.update(overrides)
    return OnDemandFeatureView(**kwargs)


@pytest.mark.parametrize(
    ("old", "new", "field", "severity"),
    [
        # feature views
        (view(), view(schema=[Field("plays", Int32), Field("minutes", Float32)]),
         "schema.plays", B),  # a feature's type
        (view(), view(schema=[Field("plays", Int64)]), "schema.minutes", B),  # removed feature
        (view(), view(schema=[*view().schema, Field("skips", Int64)]),
         "schema.skips", N),  # a new feature
        (view(), view(schema=[Field("minutes", Float32), Field("plays", Int64)]),
         "feature order", N),  # same features, other order
        (view(), view(entities=[member, title]), "entities", B),  # entities
        (view(), view(ttl=timedelta(days=2)), "ttl", B),  # ttl
        (view(), view(ttl=None), "ttl", B),  # ttl removed: values no longer expire
        (view(), view(source=ParquetSource(path="data/b.parquet")), "source.path", B),
        (view(), view(source=ParquetSource(path="data/a.parquet", timestamp_field="ts")),
         "source.timestamp_field", B),  # timestamp column
        (view(), view(source=ParquetSource(path="data/a.parquet", created_timestamp_column="c")),
         "source.created_timestamp_column", B),  # created column added
        (view(), view(source=ParquetSource(path="data/a.parquet", field_mapping={"p": "plays"})),
         "source.field_mapping", B),  # field mapping
        (view(), view(source=PushSource("push", ParquetSource(path="data/a.parquet"))),
         "source.push", B),  # parquet source became a push source
        (view(), view(online=False), "online", N),  # online flag
        (view(), view(schedule="@daily"), "schedule", N),  # schedule
        (view(), view(owner="bo"), "owner", M),  # owner
        (view(), view(tags={"tier": "2"}), "tags", M),  # tags
        (view(), view(description="new words"), "description", M),  # description
        (view(), view(schema=[Field("plays", Int64, description="d"), Field("minutes", Float32)]),
         "schema.plays.description", M),  # a field's description
        # entities
        (member, Entity(name="member", join_keys=["member_id", "region"]), "join_keys", B),
        (member, Entity(name="member", join_keys=["member_id"], value_type=String),
         "join_keys", B),  # join key type
        (member, Entity(name="member", join_keys=["member_id"], owner="x"), "owner", M),
        # on-demand views
        (odfv(), odfv(source_hash="b" * 64), "transform", B),  # the function's source changed
        (odfv(), odfv(function="features:other"), "transform", B),  # another function
        (odfv(), odfv(sources=[view()]), "sources", B),  # request source dropped
        (odfv(), odfv(schema=[Field("r", Float64), Field("s", Int64)]), "schema.s", N),
        # feature services
        (FeatureService("svc", [view()[["plays"]]]), FeatureService("svc", [view()]),
         "features.activity", N),  # a feature added to a service
        (FeatureService("svc", [view()]), FeatureService("svc", [view()[["plays"]]]),
         "features.activity", B),  # a feature removed from a service
        (FeatureService("svc", [view()]), FeatureService("svc", [view(), odfv()]),
         "features.ratio", N),  # a view added to a service
    ],
)  # fmt: skip
def test_each_kind_of_change_is_classified(
    old: Any, new: Any, field: str, severity: Severity
) -> None:
    changes = {c.field: c for c in diff_object(old, new)}
    assert field in changes, list(changes)
    assert changes[field].severity is severity


def test_unchanged_definitions_have_no_differences() -> None:
    assert diff_object(view(), view()) == []
    assert diff_object(odfv(), odfv()) == []


def test_field_change_shows_old_and_new_values() -> None:
    (change,) = diff_object(view(), view(ttl=timedelta(hours=36)))
    assert (change.field, change.old, change.new) == ("ttl", "1d", "1d 12h")


def test_adding_a_feature_is_not_also_reported_as_a_reorder() -> None:
    changes = diff_object(view(), view(schema=[*view().schema, Field("skips", Int64)]))
    assert [c.field for c in changes] == ["schema.skips"]


def test_objects_added_changed_removed_in_kind_then_name_order() -> None:
    old = Definitions.build("p", [member, title, view()])
    svc = FeatureService("svc", [view(owner="bo")])
    new = Definitions.build("p", [member, view(owner="bo"), svc])
    changes = diff_definitions(old, new)
    assert [(c.kind, c.name, c.action, c.severity) for c in changes] == [
        ("entity", "title", "remove", B),
        ("feature view", "activity", "change", M),
        ("feature service", "svc", "add", N),
    ]


def test_from_an_empty_registry_everything_is_added() -> None:
    changes = diff_definitions(None, Definitions.build("p", [member]))
    assert [(c.name, c.action) for c in changes] == [("member", "add")]


def test_renaming_the_project_is_breaking() -> None:
    changes = diff_definitions(Definitions.build("a", []), Definitions.build("b", []))
    assert [(c.kind, c.severity) for c in changes] == [("project", B)]


@pytest.mark.parametrize(
    ("ttl", "text"),
    [
        (None, ""),  # no limit
        (timedelta(0), ""),  # zero means no limit too
        (timedelta(seconds=90), "1m 30s"),  # below an hour
        (timedelta(days=1, hours=2), "1d 2h"),  # mixed units
        (timedelta(milliseconds=500), "0.5s"),  # below a second
    ],
)
def test_format_ttl(ttl: timedelta | None, text: str) -> None:
    assert format_ttl(ttl) == text

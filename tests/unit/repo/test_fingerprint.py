"""Data and metadata fingerprints: what changes each, and stability across processes."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource
from featurestore.definitions.collection import Definitions
from featurestore.registry._convert import registry_from_proto, registry_to_proto
from featurestore.repo.fingerprint import data_fingerprint, metadata_fingerprint
from featurestore.types import Float32, Int64, String

member = Entity(name="member", join_keys=["member_id"])


def view(**overrides: Any) -> FeatureView:
    kwargs: dict[str, Any] = {
        "name": "activity",
        "entities": [member],
        "schema": [Field("plays", Int64, description="plays")],
        "source": ParquetSource(path="data/a.parquet"),
        "ttl": timedelta(days=1),
        "owner": "ana",
        "tags": {"a": "1", "b": "2"},
    }
    kwargs.update(overrides)
    return FeatureView(**kwargs)


@pytest.mark.parametrize(
    ("changed", "data", "metadata"),
    [
        (view(schema=[Field("plays", Float32, description="plays")]), True, False),  # type
        (view(ttl=timedelta(days=2)), True, False),  # ttl
        (view(source=ParquetSource(path="data/b.parquet")), True, False),  # source
        (view(entities=[Entity(name="member", join_keys=["member_id"], value_type=String)]),
         True, False),  # an entity's key type, through the view
        (view(owner="bo"), False, True),  # owner
        (view(tags={"a": "1"}), False, True),  # tags
        (view(schema=[Field("plays", Int64, description="other")]), False, True),  # field doc
        (view(online=False), False, False),  # serving setting: neither
        (view(schedule="@daily"), False, False),  # serving setting: neither
        (view(tags={"b": "2", "a": "1"}), False, False),  # same tags, other order
    ],
)  # fmt: skip
def test_what_changes_which_fingerprint(changed: FeatureView, data: bool, metadata: bool) -> None:
    base = view()
    assert (data_fingerprint(changed) != data_fingerprint(base)) is data
    assert (metadata_fingerprint(changed) != metadata_fingerprint(base)) is metadata


def test_fingerprints_survive_the_registry_round_trip() -> None:
    defs = Definitions.build("p", [member, view()])
    back = registry_from_proto(registry_to_proto(defs))
    assert data_fingerprint(back.feature_views["activity"]) == data_fingerprint(view())
    assert metadata_fingerprint(back.feature_views["activity"]) == metadata_fingerprint(view())


def test_service_fingerprint_folds_in_its_views_when_given_definitions() -> None:
    svc = FeatureService("svc", [view()])
    before = Definitions.build("p", [member, view(), svc])
    after = Definitions.build("p", [member, view(ttl=timedelta(days=9)), svc])
    assert data_fingerprint(svc) == data_fingerprint(svc)
    assert data_fingerprint(svc, before) != data_fingerprint(svc, after)


def test_fingerprint_is_the_same_in_another_process() -> None:
    code = (
        "from datetime import timedelta\n"
        "from featurestore import Entity, FeatureView, Field, ParquetSource\n"
        "from featurestore.types import Int64\n"
        "from featurestore.repo.fingerprint import data_fingerprint\n"
        "m = Entity(name='member', join_keys=['member_id'])\n"
        "v = FeatureView(name='activity', entities=[m], schema=[Field('plays', Int64)],\n"
        "                source=ParquetSource(path='data/a.parquet'), ttl=timedelta(days=1),\n"
        "                tags={'b': '2', 'a': '1'})\n"
        "print(data_fingerprint(v))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == data_fingerprint(view())
    assert len(out) == 64

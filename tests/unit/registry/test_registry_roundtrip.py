"""Property: any valid definitions survive the registry's protobuf form unchanged, and a
stored version reads back equal with the same fingerprints."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurestore import Entity, FeatureService, FeatureView, Field, ParquetSource
from featurestore.definitions.collection import Definitions
from featurestore.registry._convert import registry_from_proto, registry_to_proto
from featurestore.registry.store import RegistryStore
from featurestore.repo.fingerprint import data_fingerprint, metadata_fingerprint
from featurestore.types import SCALARS, Array

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
text = st.text(max_size=20)
tags = st.dictionaries(st.text(min_size=1, max_size=5), text, max_size=3)
dtypes = st.sampled_from([*SCALARS.values(), *(Array(t) for t in SCALARS.values())])
key_types = st.sampled_from([SCALARS[n] for n in ("Int32", "Int64", "String", "Bytes")])


@st.composite
def definitions(draw: st.DrawFn) -> Definitions:
    key = draw(names)
    entity = Entity(
        name="e_" + key,
        join_keys=["k_" + key],
        value_type=draw(key_types),
        description=draw(text),
        tags=draw(tags),
        owner=draw(text),
    )
    feature_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    view = FeatureView(
        name="v_" + key,
        entities=draw(st.sampled_from([[entity], []])),
        schema=[Field("f_" + n, draw(dtypes), draw(text), draw(tags)) for n in feature_names],
        source=ParquetSource(
            path=draw(st.sampled_from(["data/x.parquet", "s3://b/x/", "data/*.parquet"])),
            created_timestamp_column=draw(st.sampled_from([None, "created"])),
            field_mapping=draw(st.dictionaries(names, names, max_size=2)),
        ),
        ttl=draw(st.none() | st.integers(1, 10**7).map(lambda s: timedelta(seconds=s))),
        online=draw(st.booleans()),
        schedule=draw(st.sampled_from([None, "@hourly", "*/15 * * * *", "@every 5m"])),
        owner=draw(text),
        tags=draw(tags),
        description=draw(text),
    )
    picked = draw(st.lists(st.sampled_from(view.feature_names), min_size=1, unique=True))
    service = FeatureService("s_" + key, [view[picked]], owner=draw(text), tags=draw(tags))
    return Definitions.build("p", [entity, view, service])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions())
def test_definitions_survive_the_proto_round_trip(defs: Definitions) -> None:
    back = registry_from_proto(registry_to_proto(defs))
    assert back == defs
    for a, b in zip(defs.all(), back.all(), strict=True):
        assert data_fingerprint(a, defs) == data_fingerprint(b, back)
        assert metadata_fingerprint(a) == metadata_fingerprint(b)


@settings(max_examples=20, deadline=None)
@given(definitions())
def test_a_committed_version_reads_back_equal(defs: Definitions) -> None:
    registry = RegistryStore(f"memory://prop-{uuid.uuid4().hex}")
    version = registry.commit(defs, parent=None, author="x")
    assert RegistryStore(registry.url).read(version).definitions == defs

"""Definitions to and from their protobuf form in the registry."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration

from featurestore._proto import registry_pb2 as pb
from featurestore.definitions import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    OnDemandFeatureView,
    ParquetSource,
    PushSource,
    RequestSource,
    ServiceEntry,
)
from featurestore.definitions.collection import Definition, Definitions
from featurestore.types import parse

LOC = "registry"


def registry_to_proto(defs: Definitions) -> pb.Registry:
    """The canonical protobuf form of every definition; lists sorted by name."""
    return pb.Registry(
        project=defs.project,
        entities=[entity_to_proto(e) for e in defs.entities.values()],
        feature_views=[view_to_proto(v) for v in defs.feature_views.values()],
        on_demand_feature_views=[odfv_to_proto(v) for v in defs.on_demand_feature_views.values()],
        feature_services=[service_to_proto(s) for s in defs.feature_services.values()],
    )


def registry_from_proto(msg: pb.Registry) -> Definitions:
    entities = {e.name: entity_from_proto(e) for e in msg.entities}
    views = {v.name: view_from_proto(v, entities) for v in msg.feature_views}
    objects: list[Definition] = [*entities.values(), *views.values()]
    objects += [odfv_from_proto(o, views) for o in msg.on_demand_feature_views]
    objects += [service_from_proto(s) for s in msg.feature_services]
    return Definitions.build(msg.project, objects)


def definition_to_proto(
    obj: Definition,
) -> pb.Entity | pb.FeatureView | pb.OnDemandFeatureView | pb.FeatureService:
    if isinstance(obj, Entity):
        return entity_to_proto(obj)
    if isinstance(obj, FeatureView):
        return view_to_proto(obj)
    if isinstance(obj, OnDemandFeatureView):
        return odfv_to_proto(obj)
    return service_to_proto(obj)


def field_to_proto(f: Field) -> pb.Field:
    return pb.Field(name=f.name, dtype=str(f.dtype), description=f.description, tags=f.tags)


def field_from_proto(msg: pb.Field) -> Field:
    return Field(msg.name, parse(msg.dtype), msg.description, dict(msg.tags), location=LOC)


def entity_to_proto(e: Entity) -> pb.Entity:
    return pb.Entity(
        name=e.name,
        join_keys=e.join_keys,
        join_key_types=[str(t) for t in e.key_types],
        description=e.description,
        tags=e.tags,
        owner=e.owner,
    )


def entity_from_proto(msg: pb.Entity) -> Entity:
    types = {k: parse(t) for k, t in zip(msg.join_keys, msg.join_key_types, strict=True)}
    return Entity(
        name=msg.name,
        join_keys=list(msg.join_keys),
        value_type=types,
        description=msg.description,
        tags=dict(msg.tags),
        owner=msg.owner,
        location=LOC,
    )


def parquet_to_proto(s: ParquetSource) -> pb.ParquetSource:
    return pb.ParquetSource(
        path=s.path,
        timestamp_field=s.timestamp_field,
        created_timestamp_column=s.created_timestamp_column,
        field_mapping=s.field_mapping,
    )


def parquet_from_proto(msg: pb.ParquetSource) -> ParquetSource:
    return ParquetSource(
        path=msg.path,
        timestamp_field=msg.timestamp_field,
        created_timestamp_column=msg.created_timestamp_column or None,
        field_mapping=dict(msg.field_mapping),
        location=LOC,
    )


def request_to_proto(s: RequestSource) -> pb.RequestSource:
    return pb.RequestSource(
        name=s.name, schema=[field_to_proto(f) for f in s.schema], description=s.description
    )


def request_from_proto(msg: pb.RequestSource) -> RequestSource:
    return RequestSource(
        name=msg.name,
        schema=[field_from_proto(f) for f in msg.schema],
        description=msg.description,
        location=LOC,
    )


def view_to_proto(v: FeatureView) -> pb.FeatureView:
    msg = pb.FeatureView(
        name=v.name,
        entities=[e.name for e in v.entities],
        schema=[field_to_proto(f) for f in v.schema],
        online=v.online,
        schedule=v.schedule,
        owner=v.owner,
        tags=v.tags,
        description=v.description,
    )
    if isinstance(v.source, PushSource):
        msg.push_source.CopyFrom(
            pb.PushSource(
                name=v.source.name,
                batch_source=parquet_to_proto(v.source.batch_source),
                description=v.source.description,
            )
        )
    else:
        msg.parquet_source.CopyFrom(parquet_to_proto(v.source))
    if v.ttl:
        ttl = Duration()
        ttl.FromTimedelta(v.ttl)
        msg.ttl.CopyFrom(ttl)
    return msg


def view_from_proto(msg: pb.FeatureView, entities: dict[str, Entity]) -> FeatureView:
    source: ParquetSource | PushSource
    if msg.WhichOneof("source") == "push_source":
        source = PushSource(
            name=msg.push_source.name,
            batch_source=parquet_from_proto(msg.push_source.batch_source),
            description=msg.push_source.description,
            location=LOC,
        )
    else:
        source = parquet_from_proto(msg.parquet_source)
    ttl = msg.ttl.ToTimedelta() if msg.HasField("ttl") else None
    return FeatureView(
        name=msg.name,
        entities=[entities[name] for name in msg.entities],
        schema=[field_from_proto(f) for f in msg.schema],
        source=source,
        ttl=ttl if ttl and ttl > timedelta(0) else None,
        online=msg.online,
        schedule=msg.schedule or None,
        owner=msg.owner,
        tags=dict(msg.tags),
        description=msg.description,
        location=LOC,
    )


def odfv_to_proto(v: OnDemandFeatureView) -> pb.OnDemandFeatureView:
    sources = [
        pb.OnDemandSource(feature_view=s.name)
        if isinstance(s, FeatureView)
        else pb.OnDemandSource(request_source=request_to_proto(s))
        for s in v.sources
    ]
    return pb.OnDemandFeatureView(
        name=v.name,
        sources=sources,
        schema=[field_to_proto(f) for f in v.schema],
        function=v.function,
        source_hash=v.source_hash,
        owner=v.owner,
        tags=v.tags,
        description=v.description,
    )


def odfv_from_proto(
    msg: pb.OnDemandFeatureView, views: dict[str, FeatureView]
) -> OnDemandFeatureView:
    sources: list[FeatureView | RequestSource] = [
        views[s.feature_view]
        if s.WhichOneof("kind") == "feature_view"
        else request_from_proto(s.request_source)
        for s in msg.sources
    ]
    return OnDemandFeatureView(
        name=msg.name,
        sources=sources,
        schema=[field_from_proto(f) for f in msg.schema],
        function=msg.function,
        source_hash=msg.source_hash,
        owner=msg.owner,
        tags=dict(msg.tags),
        description=msg.description,
        location=LOC,
    )


def service_to_proto(s: FeatureService) -> pb.FeatureService:
    return pb.FeatureService(
        name=s.name,
        entries=[pb.ServiceEntry(view=e.view, features=e.features) for e in s.entries],
        owner=s.owner,
        tags=s.tags,
        description=s.description,
    )


def service_from_proto(msg: pb.FeatureService) -> FeatureService:
    return FeatureService(
        name=msg.name,
        features=[ServiceEntry(e.view, tuple(e.features)) for e in msg.entries],
        owner=msg.owner,
        tags=dict(msg.tags),
        description=msg.description,
        location=LOC,
    )

"""A feature view: a set of features of some entities, read from one source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from featurestore._frozen import FrozenDict
from featurestore.definitions import schedule as schedules
from featurestore.definitions._base import (
    caller_location,
    check_name,
    check_text,
    definition_error,
    freeze_tags,
)
from featurestore.definitions.entity import Entity
from featurestore.definitions.field import Field
from featurestore.definitions.sources import ParquetSource, PushSource, check_schema
from featurestore.types import ValueType


@dataclass(frozen=True, init=False)
class FeatureView:
    """Features of zero or more entities, read from a Parquet or push source.

    ``ttl`` bounds how old a value may be (``None`` or zero: no bound). ``schedule``
    (cron, ``@hourly``, ``@daily``, ``@every 15m``) drives the materialization scheduler.

    >>> from datetime import timedelta
    >>> from featurestore.types import Int64
    >>> member = Entity(name="member", join_keys=["member_id"])
    >>> view = FeatureView(name="member_activity", entities=[member], ttl=timedelta(days=1),
    ...                    schema=[Field("plays_7d", Int64)],
    ...                    source=ParquetSource(path="data/activity.parquet"))
    >>> view.join_keys, view.feature_names
    (('member_id',), ('plays_7d',))
    """

    name: str
    entities: tuple[Entity, ...]
    schema: tuple[Field, ...]
    source: ParquetSource | PushSource
    ttl: timedelta | None = None
    online: bool = True
    schedule: str = ""
    owner: str = ""
    tags: FrozenDict = field(default_factory=FrozenDict)
    description: str = ""
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        name: str,
        schema: Sequence[Field],
        source: ParquetSource | PushSource,
        entities: Sequence[Entity] = (),
        ttl: timedelta | None = None,
        online: bool = True,
        schedule: str | None = None,
        owner: str = "",
        tags: Mapping[str, str] | None = None,
        description: str = "",
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        kind = "FeatureView"
        check_name(kind, name, loc)
        ents = _entities(name, entities, loc)
        fields = check_schema(kind, name, schema, loc)
        if not isinstance(source, (ParquetSource, PushSource)):
            problem = f"got {source!r}; expected a ParquetSource or a PushSource"
            raise definition_error(kind, name, "source", problem, loc)
        if ttl is not None and (not isinstance(ttl, timedelta) or ttl < timedelta(0)):
            problem = f"got {ttl!r}; expected a timedelta >= 0, or None for no limit"
            raise definition_error(kind, name, "ttl", problem, loc)
        if not isinstance(online, bool):
            raise definition_error(
                kind, name, "online", f"got {online!r}; expected True or False", loc
            )
        sched = schedule or ""
        if sched and (not isinstance(sched, str) or not schedules.is_valid(sched)):
            problem = f"got {schedule!r}; expected {schedules.ALLOWED}"
            raise definition_error(kind, name, "schedule", problem, loc)
        check_text(kind, name, "owner", owner, loc)
        check_text(kind, name, "description", description, loc)
        view_tags = freeze_tags(kind, name, tags, loc)
        _check_columns(name, ents, fields, source, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "entities", ents)
        object.__setattr__(self, "schema", fields)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "ttl", ttl if ttl else None)
        object.__setattr__(self, "online", online)
        object.__setattr__(self, "schedule", sched)
        object.__setattr__(self, "owner", owner)
        object.__setattr__(self, "tags", view_tags)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "location", loc)

    @property
    def join_keys(self) -> tuple[str, ...]:
        """All join key columns of this view's entities, in order."""
        return tuple(k for e in self.entities for k in e.join_keys)

    @property
    def key_schema(self) -> dict[str, ValueType]:
        """Join key column to value type."""
        return {k: t for e in self.entities for k, t in e.key_schema.items()}

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema)

    @property
    def batch_source(self) -> ParquetSource:
        """The Parquet data behind this view (a push source's batch source)."""
        return self.source.batch_source if isinstance(self.source, PushSource) else self.source

    def field(self, name: str) -> Field:
        for f in self.schema:
            if f.name == name:
                return f
        raise KeyError(name)

    def __getitem__(self, features: Sequence[str]) -> FeatureViewProjection:
        """A projection on some of this view's features, for a ``FeatureService``."""
        names = (features,) if isinstance(features, str) else tuple(features)
        unknown = [f for f in names if f not in self.feature_names]
        if unknown or not names:
            problem = (
                f"projection asks for {unknown or 'no features'}; "
                f"the view has {list(self.feature_names)}"
            )
            raise definition_error("FeatureView", self.name, "schema", problem, caller_location())
        return FeatureViewProjection(view=self, features=names)


@dataclass(frozen=True)
class FeatureViewProjection:
    """Some features of a view, as written ``view[["a", "b"]]`` in a ``FeatureService``."""

    view: FeatureView
    features: tuple[str, ...]


def _entities(name: str, entities: Sequence[Entity], loc: str) -> tuple[Entity, ...]:
    if isinstance(entities, Entity):
        entities = [entities]
    ents = tuple(entities or ())
    for e in ents:
        if not isinstance(e, Entity):
            problem = f"has {e!r}; every entry must be an Entity"
            raise definition_error("FeatureView", name, "entities", problem, loc)
    keys = [k for e in ents for k in e.join_keys]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        problem = f"join key(s) {dupes} appear in more than one entity"
        raise definition_error("FeatureView", name, "entities", problem, loc)
    return ents


def _check_columns(
    name: str,
    entities: tuple[Entity, ...],
    fields: tuple[Field, ...],
    source: ParquetSource | PushSource,
    loc: str,
) -> None:
    batch = source.batch_source if isinstance(source, PushSource) else source
    reserved = {k: "a join key" for e in entities for k in e.join_keys}
    reserved[batch.timestamp_field] = "the source's timestamp_field"
    if batch.created_timestamp_column:
        reserved[batch.created_timestamp_column] = "the source's created_timestamp_column"
    for f in fields:
        if f.name in reserved:
            problem = (
                f"feature {f.name!r} is {reserved[f.name]}; list only features in schema "
                "(join keys come from the entities)"
            )
            raise definition_error("FeatureView", name, "schema", problem, loc)

"""A feature service: the named set of features one model uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from featurestore._frozen import FrozenDict
from featurestore.definitions._base import (
    caller_location,
    check_name,
    check_text,
    definition_error,
    freeze_tags,
)
from featurestore.definitions.feature_view import FeatureView, FeatureViewProjection
from featurestore.definitions.on_demand import OnDemandFeatureView


@dataclass(frozen=True)
class ServiceEntry:
    """One view in a service and the features taken from it (all, when not projected)."""

    view: str
    features: tuple[str, ...]


@dataclass(frozen=True, init=False)
class FeatureService:
    """A named list of views or projections (``view[["a", "b"]]``), e.g. for one model."""

    name: str
    entries: tuple[ServiceEntry, ...]
    owner: str = ""
    tags: FrozenDict = field(default_factory=FrozenDict)
    description: str = ""
    location: str = field(default="", compare=False, repr=False)

    def __init__(
        self,
        name: str,
        features: Sequence[
            FeatureView | FeatureViewProjection | OnDemandFeatureView | ServiceEntry
        ],
        owner: str = "",
        tags: Mapping[str, str] | None = None,
        description: str = "",
        *,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        kind = "FeatureService"
        check_name(kind, name, loc)
        if not features or isinstance(features, str):
            problem = f"got {features!r}; expected a non-empty list of views or view[[...]]"
            raise definition_error(kind, name, "features", problem, loc)
        entries: list[ServiceEntry] = []
        for item in features:
            if isinstance(item, (FeatureView, OnDemandFeatureView)):
                entries.append(ServiceEntry(item.name, item.feature_names))
            elif isinstance(item, FeatureViewProjection):
                entries.append(ServiceEntry(item.view.name, item.features))
            elif isinstance(item, ServiceEntry):
                entries.append(item)
            else:
                problem = f"has {item!r}; expected a FeatureView, an on-demand view or view[[...]]"
                raise definition_error(kind, name, "features", problem, loc)
        views = [e.view for e in entries]
        dupes = sorted({v for v in views if views.count(v) > 1})
        if dupes:
            problem = f"lists view(s) {dupes} more than once; merge their projections"
            raise definition_error(kind, name, "features", problem, loc)
        check_text(kind, name, "owner", owner, loc)
        check_text(kind, name, "description", description, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "entries", tuple(entries))
        object.__setattr__(self, "owner", owner)
        object.__setattr__(self, "tags", freeze_tags(kind, name, tags, loc))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "location", loc)

    @property
    def feature_refs(self) -> tuple[str, ...]:
        """``view:feature`` for every feature of the service, in order."""
        return tuple(f"{e.view}:{f}" for e in self.entries for f in e.features)

"""All definitions of one project, checked for consistency, with lookups by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from featurestore.definitions.entity import Entity
from featurestore.definitions.feature_service import FeatureService
from featurestore.definitions.feature_view import FeatureView
from featurestore.definitions.on_demand import OnDemandFeatureView
from featurestore.definitions.sources import PushSource, RequestSource
from featurestore.errors import DefinitionError, NotFoundError

Definition = Entity | FeatureView | OnDemandFeatureView | FeatureService

KINDS: dict[type, str] = {
    Entity: "entity",
    FeatureView: "feature view",
    OnDemandFeatureView: "on-demand feature view",
    FeatureService: "feature service",
}


@dataclass(frozen=True)
class FeatureSelection:
    """Features requested from one view, in request order."""

    view: FeatureView | OnDemandFeatureView
    features: tuple[str, ...]


@dataclass(frozen=True)
class Definitions:
    """Every entity, view and service of a project; names are unique across kinds."""

    project: str
    entities: Mapping[str, Entity] = field(default_factory=dict)
    feature_views: Mapping[str, FeatureView] = field(default_factory=dict)
    on_demand_feature_views: Mapping[str, OnDemandFeatureView] = field(default_factory=dict)
    feature_services: Mapping[str, FeatureService] = field(default_factory=dict)

    @classmethod
    def build(cls, project: str, objects: Iterable[Definition]) -> Definitions:
        """Group ``objects`` by kind and check that they refer to each other correctly."""
        groups: dict[type, dict[str, Definition]] = {kind: {} for kind in KINDS}
        owners: dict[str, Definition] = {}
        for obj in objects:
            kind = type(obj)
            if obj.name in owners and owners[obj.name] != obj:
                other = owners[obj.name]
                msg = (
                    f"two definitions are named {obj.name!r}: a {KINDS[type(other)]} at "
                    f"{other.location or '?'} and a {KINDS[kind]} at {obj.location or '?'}; "
                    "names must be unique in a project"
                )
                raise DefinitionError(msg)
            owners[obj.name] = obj
            groups[kind][obj.name] = obj
        defs = cls(
            project=project,
            entities=_sorted(groups[Entity]),
            feature_views=_sorted(groups[FeatureView]),
            on_demand_feature_views=_sorted(groups[OnDemandFeatureView]),
            feature_services=_sorted(groups[FeatureService]),
        )
        defs._check_references()
        return defs

    def all(self) -> list[Definition]:
        """Every definition, entities first, then views, on-demand views and services."""
        return [
            *self.entities.values(),
            *self.feature_views.values(),
            *self.on_demand_feature_views.values(),
            *self.feature_services.values(),
        ]

    def get(self, name: str) -> Definition:
        for group in (
            self.entities,
            self.feature_views,
            self.on_demand_feature_views,
            self.feature_services,
        ):
            if name in group:
                return group[name]
        msg = f"no entity, view or service named {name!r} in project {self.project!r}"
        raise NotFoundError(msg)

    def feature_view(self, name: str) -> FeatureView:
        if name not in self.feature_views:
            msg = f"unknown feature view {name!r}; known: {sorted(self.feature_views)}"
            raise NotFoundError(msg)
        return self.feature_views[name]

    def feature_service(self, name: str) -> FeatureService:
        if name not in self.feature_services:
            msg = f"unknown feature service {name!r}; known: {sorted(self.feature_services)}"
            raise NotFoundError(msg)
        return self.feature_services[name]

    @property
    def push_sources(self) -> dict[str, PushSource]:
        """Push sources by name, as used by feature views."""
        return {
            v.source.name: v.source
            for v in self.feature_views.values()
            if isinstance(v.source, PushSource)
        }

    def views_of_push_source(self, name: str) -> list[FeatureView]:
        views = [
            v
            for v in self.feature_views.values()
            if isinstance(v.source, PushSource) and v.source.name == name
        ]
        if not views:
            msg = f"unknown push source {name!r}; known: {sorted(self.push_sources)}"
            raise NotFoundError(msg)
        return views

    @property
    def request_sources(self) -> dict[str, RequestSource]:
        return {
            s.name: s
            for odfv in self.on_demand_feature_views.values()
            for s in odfv.request_sources
        }

    def select(self, features: Iterable[str] | FeatureService | str) -> list[FeatureSelection]:
        """Resolve ``"view:feature"`` refs, a service, or a service name into selections.

        Views keep the order of their first mention; each feature appears once.
        """
        if isinstance(features, FeatureService):
            refs: list[str] = list(features.feature_refs)
        elif isinstance(features, str):
            refs = list(self.feature_service(features).feature_refs)
        else:
            refs = list(features)
        if not refs:
            msg = "no features requested; pass 'view:feature' refs or a feature service"
            raise NotFoundError(msg)
        chosen: dict[str, list[str]] = {}
        for ref in refs:
            if not isinstance(ref, str) or ref.count(":") != 1:
                msg = f"feature reference {ref!r} is not of the form 'view:feature'"
                raise NotFoundError(msg)
            view_name, feature = ref.split(":")
            view = self._any_view(view_name)
            if feature not in view.feature_names:
                msg = f"unknown feature {ref!r}: view {view_name!r} has {list(view.feature_names)}"
                raise NotFoundError(msg)
            names = chosen.setdefault(view_name, [])
            if feature not in names:
                names.append(feature)
        return [FeatureSelection(self._any_view(v), tuple(fs)) for v, fs in chosen.items()]

    def _any_view(self, name: str) -> FeatureView | OnDemandFeatureView:
        if name in self.feature_views:
            return self.feature_views[name]
        if name in self.on_demand_feature_views:
            return self.on_demand_feature_views[name]
        known = sorted([*self.feature_views, *self.on_demand_feature_views])
        msg = f"unknown feature view {name!r}; known views: {known}"
        raise NotFoundError(msg)

    def _check_references(self) -> None:
        for view in self.feature_views.values():
            for entity in view.entities:
                registered = self.entities.get(entity.name)
                if registered is None:
                    msg = (
                        f"{view.location or '?'}: feature view {view.name!r} uses entity "
                        f"{entity.name!r}, which is not defined in the repo"
                    )
                    raise DefinitionError(msg)
                if registered != entity:
                    msg = (
                        f"{view.location or '?'}: feature view {view.name!r} uses a different "
                        f"definition of entity {entity.name!r} than {registered.location or '?'}"
                    )
                    raise DefinitionError(msg)
        pushes: dict[str, PushSource] = {}
        for view in self.feature_views.values():
            if isinstance(view.source, PushSource):
                seen = pushes.setdefault(view.source.name, view.source)
                if seen != view.source:
                    msg = f"push source {view.source.name!r} is defined twice, differently"
                    raise DefinitionError(msg)
        for odfv in self.on_demand_feature_views.values():
            for src in odfv.source_views:
                if self.feature_views.get(src.name) != src:
                    msg = (
                        f"{odfv.location or '?'}: on-demand view {odfv.name!r} reads feature "
                        f"view {src.name!r}, which is not defined in the repo as used"
                    )
                    raise DefinitionError(msg)
        for service in self.feature_services.values():
            for entry in service.entries:
                try:
                    target = self._any_view(entry.view)
                except NotFoundError:
                    msg = (
                        f"{service.location or '?'}: feature service {service.name!r} uses "
                        f"view {entry.view!r}, which is not defined in the repo"
                    )
                    raise DefinitionError(msg) from None
                missing = [f for f in entry.features if f not in target.feature_names]
                if missing:
                    msg = (
                        f"{service.location or '?'}: feature service {service.name!r} asks "
                        f"view {entry.view!r} for {missing}, which it does not have"
                    )
                    raise DefinitionError(msg)


def _sorted(group: dict[str, Definition]) -> dict:
    return dict(sorted(group.items()))

"""Definitions of entities, features, sources, views and services."""

from featurestore.definitions.entity import Entity
from featurestore.definitions.feature_service import FeatureService, ServiceEntry
from featurestore.definitions.feature_view import FeatureView, FeatureViewProjection
from featurestore.definitions.field import Field
from featurestore.definitions.on_demand import OnDemandFeatureView, on_demand_feature_view
from featurestore.definitions.sources import ParquetSource, PushSource, RequestSource

__all__ = [
    "Entity",
    "FeatureService",
    "FeatureView",
    "FeatureViewProjection",
    "Field",
    "OnDemandFeatureView",
    "ParquetSource",
    "PushSource",
    "RequestSource",
    "ServiceEntry",
    "on_demand_feature_view",
]

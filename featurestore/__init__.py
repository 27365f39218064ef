"""featurestore: define features once; train on point-in-time-correct frames; serve them fresh.

This module is the public API. Everything else may change between releases.
"""

# Definitions: what features are and where their data lives.
from featurestore.definitions import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    OnDemandFeatureView,
    ParquetSource,
    PushSource,
    RequestSource,
    on_demand_feature_view,
)

# Errors: one root, subclasses that also inherit the builtin they resemble.
from featurestore.errors import (
    ConfigError,
    DefinitionError,
    FeatureStoreError,
    NotFoundError,
    RegistryConflictError,
    RegistryError,
    RequestError,
    SourceDataError,
)

# Online results.
from featurestore.online.response import FeatureStatus, OnlineResponse

# Serving: a client of `featurestore serve` (gRPC lookups and push, Flight training frames).
from featurestore.serving.client import FeatureClient

# The store: registry, training frames, materialization, online reads.
from featurestore.store import FeatureStore

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DefinitionError",
    "Entity",
    "FeatureClient",
    "FeatureService",
    "FeatureStatus",
    "FeatureStore",
    "FeatureStoreError",
    "FeatureView",
    "Field",
    "NotFoundError",
    "OnDemandFeatureView",
    "OnlineResponse",
    "ParquetSource",
    "PushSource",
    "RegistryConflictError",
    "RegistryError",
    "RequestError",
    "RequestSource",
    "SourceDataError",
    "on_demand_feature_view",
]

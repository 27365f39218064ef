"""Serve a model: wrap its predict function so it is called with the model's features.

>>> @with_features(store, "churn")                              # doctest: +SKIP
... def predict(features: pl.DataFrame) -> list[float]:
...     return model.predict(features)
>>> predict([{"member_id": 42}])                                # doctest: +SKIP

The features are the deployed version's, fetched in-process from a ``FeatureStore`` or over
gRPC from a ``FeatureClient`` (which lets the server resolve the model's features).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import polars as pl

from featurestore.lifecycle.deploy import deployed_features
from featurestore.store import FeatureStore

R = TypeVar("R")
EntityRows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]


def fetch_model_features(
    source: Any, model_name: str, entity_rows: EntityRows, *, full_feature_names: bool = False
) -> pl.DataFrame:
    """The deployed features of ``model_name`` for ``entity_rows``: the entity keys, then
    one column per feature in the order the model was trained on."""
    if isinstance(source, FeatureStore):
        refs = deployed_features(source, model_name)
        response = source.get_online_features(
            refs, entity_rows, full_feature_names=full_feature_names
        )
    else:
        response = source.get_online_features(
            None, entity_rows, model=model_name, full_feature_names=full_feature_names
        )
    return response.to_polars()


def with_features(
    source: Any, model_name: str, *, full_feature_names: bool = False
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """A decorator: ``predict(features, *args)`` becomes ``predict(entity_rows, *args)``,
    fetching the deployed features of ``model_name`` from ``source`` (a ``FeatureStore`` or
    a ``FeatureClient``) on every call."""

    def decorate(predict: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(predict)
        def wrapper(entity_rows: EntityRows, *args: Any, **kwargs: Any) -> R:
            features = fetch_model_features(
                source, model_name, entity_rows, full_feature_names=full_feature_names
            )
            return predict(features, *args, **kwargs)

        return wrapper

    return decorate

"""``FeatureStore``: the in-process front door to a feature repo.

Each method is thin; the work lives in the module named in its body.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featurestore.definitions import FeatureService
from featurestore.definitions.collection import Definitions, FeatureSelection
from featurestore.errors import RegistryError
from featurestore.repo.config import RepoConfig, load_config
from featurestore.repo.loader import load_definitions

if TYPE_CHECKING:
    from featurestore.lifecycle.deploy import DeployReport
    from featurestore.lifecycle.records import Deployment, Model, TrainingDataset
    from featurestore.materialize.result import ViewMaterialization
    from featurestore.offline.retrieval import EntitySource, RetrievalJob
    from featurestore.online.base import OnlineStore
    from featurestore.online.response import OnlineResponse
    from featurestore.registry.store import RegistryStore
    from featurestore.repo.plan import Plan

Features = Iterable[str] | FeatureService | str
_monotonic = time.monotonic  # the clock of the registry pointer check (tests move it)


class FeatureStore:
    """A feature repo: its config, its applied registry, and its offline and online stores.

    >>> store = FeatureStore("feature_repo")                       # doctest: +SKIP
    >>> store.apply(message="first version")                       # doctest: +SKIP
    >>> store.get_historical_features(entity_df, ["member_activity:plays_7d"]).to_polars()
    ...                                                            # doctest: +SKIP
    """

    def __init__(
        self,
        repo_path: str | Path = ".",
        *,
        config: RepoConfig | None = None,
        registry_version: str | None = None,
        registry_ttl: float = 1.0,
    ) -> None:
        self.repo_path = Path(repo_path).resolve()
        self.config = config if config is not None else load_config(self.repo_path)
        self.pinned_version = registry_version
        self.registry_ttl = registry_ttl  # seconds between reads of the HEAD pointer
        # (pin or None, registry writes seen, monotonic time HEAD was read, definitions)
        self._current: tuple[str | None, int, float, Definitions] | None = None
        self._current_lock = threading.Lock()
        if str(self.repo_path) not in sys.path:  # on-demand views import module:function
            sys.path.append(str(self.repo_path))

    @property
    def project(self) -> str:
        return self.config.project

    def resolve_path(self, path: str) -> str:
        """An fsspec URL for ``path``: URLs unchanged, relative paths under the repo root."""
        if "://" in path or Path(path).is_absolute():
            return path
        return str(self.repo_path / path)

    # --- registry -------------------------------------------------------------------------

    @cached_property
    def registry(self) -> RegistryStore:
        from featurestore.registry.store import RegistryStore

        return RegistryStore(self.resolve_path(self.config.registry))

    def load_repo(self) -> Definitions:
        """The definitions in the repo's Python files (not yet applied)."""
        return load_definitions(self.repo_path, self.config)

    def definitions(self) -> Definitions:
        """The applied definitions: the pinned version, else the current one.

        A pinned version is read once. Otherwise the registry's small ``HEAD`` pointer is
        read at most every ``registry_ttl`` seconds (0: on every call), and at once after
        this store wrote the registry or ``refresh()``; a new version is read only when
        the pointer moved.
        """
        pin = self.pinned_version
        writes = self.registry.writes
        current = self._current
        if current is not None and self._still_current(current, pin, writes):
            return current[3]
        with self._current_lock:  # one thread reads the pointer; the others wait for it
            current = self._current
            if current is not None and self._still_current(current, pin, writes):
                return current[3]
            checked = _monotonic()
            version = pin or self.registry.head()
            if version is None:
                msg = (
                    f"the registry at {self.config.registry} is empty; "
                    "run `featurestore apply` in the repo first"
                )
                raise RegistryError(msg)
            defs = self.registry.read(version).definitions
            self._current = (pin, writes, checked, defs)
            return defs

    def _still_current(
        self, current: tuple[str | None, int, float, Definitions], pin: str | None, writes: int
    ) -> bool:
        if current[0] != pin or current[1] != writes:
            return False
        return pin is not None or _monotonic() - current[2] < self.registry_ttl

    def refresh(self) -> Definitions:
        """Read the registry's ``HEAD`` pointer now (not waiting for ``registry_ttl``)."""
        self._current = None
        return self.definitions()

    def plan(self, *, check_data: bool = True) -> Plan:
        """What ``apply`` would change, object by object and field by field."""
        from featurestore.repo.plan import compute_plan

        return compute_plan(self, check_data=check_data)

    def apply(self, message: str = "", *, plan: Plan | None = None) -> Plan:
        """Apply the repo's definitions as a new registry version (if anything changed)."""
        from featurestore.repo.plan import apply_plan

        return apply_plan(self, plan or self.plan(), message=message)

    def select(self, features: Features) -> list[FeatureSelection]:
        """Resolve feature refs or a service against the applied definitions."""
        return self.definitions().select(features)

    # --- offline --------------------------------------------------------------------------

    def get_historical_features(
        self,
        entity_df: EntitySource,
        features: Features,
        *,
        full_feature_names: bool = False,
        filter_by_created_timestamp: bool = False,
    ) -> RetrievalJob:
        """A point-in-time-correct training frame for ``entity_df`` (lazy until read)."""
        from featurestore.offline.retrieval import get_historical_features

        return get_historical_features(
            self,
            entity_df,
            features,
            full_feature_names=full_feature_names,
            filter_by_created_timestamp=filter_by_created_timestamp,
        )

    # --- online ---------------------------------------------------------------------------

    @cached_property
    def online_store(self) -> OnlineStore:
        from featurestore.online import open_online_store

        return open_online_store(self)

    def materialize(
        self, start: datetime, end: datetime, views: Sequence[str] | None = None
    ) -> list[ViewMaterialization]:
        """Write the latest value per entity in ``[start, end]`` to the online store."""
        from featurestore.materialize.jobs import materialize

        return materialize(self, start, end, views=views)

    def materialize_incremental(
        self, end: datetime, views: Sequence[str] | None = None
    ) -> list[ViewMaterialization]:
        """Materialize each view from its watermark up to ``end``."""
        from featurestore.materialize.jobs import materialize_incremental

        return materialize_incremental(self, end, views=views)

    def get_online_features(
        self,
        features: Features,
        entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
        *,
        full_feature_names: bool = False,
    ) -> OnlineResponse:
        """The latest values for entity rows, with a status and event time per value."""
        from featurestore.online.reader import get_online_features

        return get_online_features(
            self, features, entity_rows, full_feature_names=full_feature_names
        )

    def push(self, push_source: str, df: Any, to: str = "online") -> int:
        """Write rows to a push source's views: ``online``, ``offline`` or
        ``online_and_offline``. Returns the number of rows accepted."""
        from featurestore.online.push import push

        return push(self, push_source, df, to=to)

    def teardown(self) -> None:
        """Remove every online value of this project."""
        self.online_store.teardown()

    # --- lifecycle ------------------------------------------------------------------------

    def create_training_dataset(
        self, name: str, entity_df: EntitySource, features: Features, **options: Any
    ) -> TrainingDataset:
        """Write a training frame as Parquet and record its lineage in the registry."""
        from featurestore.lifecycle.datasets import create_training_dataset

        return create_training_dataset(self, name, entity_df, features, **options)

    def get_training_dataset(self, name: str) -> TrainingDataset:
        """A recorded training dataset: its frame (``.to_arrow()``) and lineage."""
        from featurestore.lifecycle.datasets import get_training_dataset

        return get_training_dataset(self, name)

    def register_model(self, name: str, version: str | int, **options: Any) -> Model:
        """Record a model version trained on a training dataset (``training_dataset=``)."""
        from featurestore.lifecycle.models import register_model

        return register_model(self, name, version, **options)

    def deploy_model(self, name: str, version: str | int, **options: Any) -> DeployReport:
        """Check a model version (compatibility, freshness, skew) and record it as deployed;
        raises ``DeployRefusedError`` with the report when a check fails."""
        from featurestore.lifecycle.deploy import deploy_model

        return deploy_model(self, name, version, **options)

    def undeploy_model(self, name: str) -> Deployment:
        """Stop serving a model."""
        from featurestore.lifecycle.deploy import undeploy_model

        return undeploy_model(self, name)

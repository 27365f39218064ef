"""Background checks of a running server: new registry versions, online store health."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from featurestore.definitions import FeatureView
from featurestore.errors import FeatureStoreError, OnlineStoreUnavailableError

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

log = logging.getLogger(__name__)

# A key value of each type for the health probe's lookup (any value works: a missing key
# is NOT_FOUND, which still proves the store answered).
_PROBE_KEYS: dict[str, Any] = {
    "Bool": False,
    "Int32": 0,
    "Int64": 0,
    "Float32": 0.0,
    "Float64": 0.0,
    "String": "",
    "Bytes": b"",
}


class Loop:
    """Runs ``tick`` every ``interval`` seconds on a daemon thread until ``stop``."""

    def __init__(self, name: str, interval: float, tick: Callable[[], None]) -> None:
        self.interval = interval
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # a failed check must not end the loop
                log.exception("%s failed", self._thread.name)


def follow_registry(store: FeatureStore, on_change: Callable[[str], None]) -> Callable[[], None]:
    """A tick that reads the registry's HEAD pointer and switches ``store`` to a new version.

    The new version is read (and cached) before the switch, so requests never wait for it.
    """

    def tick() -> None:
        head = store.registry.head()
        if head is None or head == store.pinned_version:
            return
        store.registry.read(head)
        store.pinned_version = head
        log.info("serving registry version %s", head[:12])
        on_change(head)

    return tick


def probe_online_store(store: FeatureStore) -> bool:
    """Whether the online store answers: one lookup of a placeholder key of an online view.

    True when there is nothing to look up (no registry yet, no online view with keys).
    """
    try:
        defs = store.definitions()
    except FeatureStoreError:
        return True
    for view in defs.feature_views.values():
        if not isinstance(view, FeatureView) or not view.online or not view.join_keys:
            continue
        types = view.key_schema
        if not all(t.name in _PROBE_KEYS for t in types.values()):
            continue
        rows = {key: [_PROBE_KEYS[t.name]] for key, t in types.items()}
        try:
            store.get_online_features([f"{view.name}:{view.feature_names[0]}"], rows)
        except OnlineStoreUnavailableError:
            return False
        return True
    return True

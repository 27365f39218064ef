"""Prometheus metrics of one feature server, on a registry of their own.

Requests and errors by method and status code, request and online-store latency, the
registry version served, and (when watermarks exist) how old each view's data is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Loopback lookups take 0.2-5 ms; a slow store shows up in the upper buckets.
_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class ServerMetrics:
    """The server's metrics; ``serve`` exposes them over HTTP at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "featurestore_serving_requests",
            "gRPC and Flight calls by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.errors = Counter(
            "featurestore_serving_errors",
            "Calls that ended with a status other than OK, by method and code",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "featurestore_serving_request_seconds",
            "Time to answer a call, by method",
            ["method"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "featurestore_online_store_seconds",
            "Time spent in the online store, by operation (read, push)",
            ["operation"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry_version = Gauge(
            "featurestore_registry_version_info",
            "1 for the registry version being served",
            ["version"],
            registry=self.registry,
        )
        self.store_up = Gauge(
            "featurestore_online_store_up",
            "1 while the online store answers, 0 while it is down",
            registry=self.registry,
        )
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def record(self, method: str, code: str, seconds: float) -> None:
        self._child(self.requests, method, code).inc()
        if code != "OK":
            self._child(self.errors, method, code).inc()
        self._child(self.latency, method).observe(seconds)

    def time_store(self, operation: str) -> Any:
        """A context that records the time spent in the online store on ``operation``
        (read, push), whether or not the store raises."""
        return self._child(self.store_latency, operation).time()

    def record_denied(self, method: str, code: str) -> None:
        """Count a call refused before it ran (no latency: it did no work)."""
        self.requests.labels(method, code).inc()
        self.errors.labels(method, code).inc()

    def set_registry_version(self, version: str) -> None:
        self.registry_version.clear()
        self.registry_version.labels(version).set(1)

    def watch_freshness(self, watermarks: Callable[[], dict[str, datetime]]) -> None:
        """Export ``featurestore_view_freshness_seconds`` per view from ``watermarks()``."""
        self.registry.register(_Freshness(watermarks))

    def serve(self, host: str, port: int) -> tuple[int, Callable[[], None]]:
        """Serve ``/metrics`` on ``host:port``; returns the port and a function that stops."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return server.server_port, stop

    def text(self) -> str:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry).decode()

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once (``labels`` costs ~1 µs a call)."""
        child = self._children.get((metric, labels))
        if child is None:
            child = self._children[(metric, labels)] = metric.labels(*labels)
        return child


class _Freshness(Collector):
    def __init__(self, watermarks: Callable[[], dict[str, datetime]]) -> None:
        self.watermarks = watermarks

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "featurestore_view_freshness_seconds",
            "Seconds since the end of the last materialized window, by view",
            labels=["view"],
        )
        try:
            marks = self.watermarks()
        except Exception:  # a scrape must not fail because the state is unreadable
            log.warning("cannot read watermarks for the freshness metric", exc_info=True)
            marks = {}
        now = datetime.now(UTC)
        for view, mark in sorted(marks.items()):
            family.add_metric([view], (now - mark).total_seconds())
        yield family

"""One feature server: gRPC ``FeatureServing`` with health and reflection, Arrow Flight for
training frames, Prometheus metrics, registry hot reload, and a graceful stop on SIGTERM.

Why a synchronous gRPC server with a thread pool (measured, see benchmarks/README.md): with
our handler, grpc.aio (the handler inline on the event loop) used a little less CPU per call
in one process, but in two ``--reuse-port`` processes (the way to more throughput on more
cores) it served ~0.7-0.8x the calls of the sync server, whose threads overlap the Redis
round trips; a migration thread pool under grpc.aio was slower still. The store's read path
is synchronous code.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING

import grpc
import pyarrow as pa
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from featurestore._proto import serving_pb2 as pb
from featurestore._proto import serving_pb2_grpc as pb_grpc
from featurestore.errors import ConfigError
from featurestore.serving import _watch
from featurestore.serving.auth import TlsFiles, TokenInterceptor, Tokens, check_bind
from featurestore.serving.metrics import ServerMetrics
from featurestore.serving.servicer import FeatureServingServicer

if TYPE_CHECKING:
    from featurestore.serving.flight import FlightFrameServer
    from featurestore.store import FeatureStore

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["FeatureServing"].full_name
DEFAULT_PORT = 6566


@dataclass(frozen=True)
class ServeOptions:
    """How to run a server. Ports of 0 pick a free port; ``None`` turns an endpoint off."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    flight_port: int | None = None
    metrics_port: int | None = None
    workers: int = 2  # threads answering gRPC calls (`serve --reuse-port` uses 3)
    reuse_port: bool = False  # share the gRPC port with other servers that also set it
    tokens: Tokens = field(default_factory=Tokens)
    tls: TlsFiles | None = None
    insecure: bool = False
    registry_version: str | None = None  # pin; otherwise follow HEAD
    reload_interval: float = 5.0  # seconds between reads of the registry's HEAD pointer
    probe_interval: float = 1.0  # seconds between online store health probes
    probe_timeout: float = 2.0  # a probe slower than this counts as the store being down
    max_message_bytes: int = 16 * 1024 * 1024
    max_entities: int = 10_000
    grace: float = 10.0  # seconds in-flight calls get to finish on stop


class FeatureServer:
    """A running (after ``start``) feature server for ``store``.

    The server owns ``store``: it sets ``store.pinned_version`` to the version it serves.

    >>> with FeatureServer(store, ServeOptions(port=0)) as server:   # doctest: +SKIP
    ...     FeatureClient(server.address).get_online_features(...)
    """

    def __init__(self, store: FeatureStore, options: ServeOptions | None = None) -> None:
        self.store = store
        self.options = options or ServeOptions()
        self.metrics = ServerMetrics()
        self.health = health.HealthServicer(experimental_non_blocking=True)
        self.port = 0
        self.metrics_port: int | None = None
        self.flight: FlightFrameServer | None = None
        self._grpc: grpc.Server | None = None
        self._loops: list[_watch.Loop] = []
        self._stop_metrics = lambda: None
        self._stopped = threading.Event()
        self._done = threading.Event()
        self._probing: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"{self.options.host}:{self.port}"

    def start(self) -> FeatureServer:
        opts = self.options
        check_bind(opts.host, tokens=opts.tokens, tls=opts.tls, insecure=opts.insecure)
        self._follow_registry()
        self._servicer = servicer = FeatureServingServicer(
            self.store,
            self.metrics,
            max_entities=opts.max_entities,
            pinned=self._pinned,
            on_store_down=lambda: self._set_serving(False),
        )
        interceptors = [TokenInterceptor(opts.tokens, self.metrics)] if opts.tokens else []
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix="serve"),
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", opts.max_message_bytes),
                ("grpc.max_send_message_length", opts.max_message_bytes),
                # a busy port is an error, unless every server on it asked to share it
                ("grpc.so_reuseport", int(opts.reuse_port)),
            ],
        )
        pb_grpc.add_FeatureServingServicer_to_server(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        names = (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
        reflection.enable_server_reflection((*names, reflection.SERVICE_NAME), server)
        target = f"{opts.host}:{opts.port}"
        try:
            if opts.tls is not None:
                self.port = server.add_secure_port(target, opts.tls.server_credentials())
            else:
                self.port = server.add_insecure_port(target)
        except RuntimeError as exc:
            msg = f"cannot listen on {target} ({exc}); is another server using the port? "
            msg += "(servers share a port only when all of them set --reuse-port)"
            raise ConfigError(msg) from None
        server.start()
        self._grpc = server
        self._probe()
        self._loops.append(_watch.Loop("online store probe", opts.probe_interval, self._probe))
        for loop in self._loops:
            loop.start()
        try:
            self._start_side_endpoints()
        except BaseException:
            self.stop(grace=0)
            raise
        log.info("serving %s on %s", SERVICE_NAME, self.address)
        return self

    def stop(self, grace: float | None = None) -> None:
        """Stop taking calls, let in-flight ones finish (up to ``grace`` seconds), then stop."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        if self._grpc is not None:
            self._grpc.stop(self.options.grace if grace is None else grace).wait()
        if self.flight is not None:
            self.flight.shutdown()
        for loop in self._loops:
            loop.stop()
        self._stop_metrics()
        self._done.set()

    def wait(self) -> None:
        """Block until ``stop`` has finished."""
        self._done.wait()

    def __enter__(self) -> FeatureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(grace=0)

    # --- internals ------------------------------------------------------------------------

    def _follow_registry(self) -> None:
        pin = self.options.registry_version or self.store.pinned_version
        self._pinned = pin is not None
        if pin is not None:
            self.store.pinned_version = self.store.registry.resolve(pin)
            self.metrics.set_registry_version(self.store.pinned_version)
        else:
            self.store.pinned_version = None
            tick = _watch.follow_registry(self.store, self.metrics.set_registry_version)
            tick()  # sets the version metric when there is a HEAD
            self._loops.append(_watch.Loop("registry reload", self.options.reload_interval, tick))

    def _start_side_endpoints(self) -> None:
        opts = self.options
        if opts.flight_port is not None:
            from featurestore.serving.flight import FlightFrameServer

            try:
                self.flight = FlightFrameServer(self.store, opts, self.metrics)
            except (OSError, pa.ArrowException) as exc:
                msg = f"Flight cannot listen on {opts.host}:{opts.flight_port} ({exc})"
                raise ConfigError(msg) from None
            self._servicer.flight_port = self.flight.port
        if opts.metrics_port is not None:
            self._watch_freshness()
            try:
                self.metrics_port, self._stop_metrics = self.metrics.serve(
                    opts.host, opts.metrics_port
                )
            except OSError as exc:
                msg = f"metrics cannot listen on {opts.host}:{opts.metrics_port} ({exc})"
                raise ConfigError(msg) from None

    def _probe(self) -> None:
        """Probe on a thread of its own, so a store that hangs (rather than refusing
        connections) turns health NOT_SERVING too; one probe at a time."""
        if self._probing is not None and self._probing.is_alive():
            self._set_serving(False)  # the last probe is still stuck
            return
        result: list[bool] = []

        def probe() -> None:
            try:
                result.append(_watch.probe_online_store(self.store))
            except Exception:
                log.exception("the online store probe failed")
                result.append(False)

        self._probing = threading.Thread(target=probe, name="store probe call", daemon=True)
        self._probing.start()
        self._probing.join(self.options.probe_timeout)
        self._set_serving(bool(result) and result[0])

    def _set_serving(self, up: bool) -> None:
        if self._stopped.is_set():
            return
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if up
            else (health_pb2.HealthCheckResponse.NOT_SERVING)
        )
        self.health.set(SERVICE_NAME, status)
        self.health.set("", status)
        self.metrics.store_up.set(1 if up else 0)

    def _watch_freshness(self) -> None:
        from featurestore.materialize.watermarks import all_watermarks

        self.metrics.watch_freshness(lambda: all_watermarks(self.store))


def serve_forever(server: FeatureServer, on_started: Callable[[], None] = lambda: None) -> None:
    """Start ``server`` and block; SIGTERM or SIGINT drain in-flight calls, then return."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: draining", signal.Signals(signum).name)
        threading.Thread(target=server.stop, name="drain", daemon=True).start()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        on_started()
        server.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""The ``FeatureServing`` handlers: decode the request, call the store, encode the answer.

Errors become status codes a caller can act on: bad input is INVALID_ARGUMENT naming what
is wrong, an unreachable online store is UNAVAILABLE, an empty registry FAILED_PRECONDITION.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import grpc

from featurestore import __version__
from featurestore._proto import serving_pb2 as pb
from featurestore._proto import serving_pb2_grpc as pb_grpc
from featurestore.definitions import FeatureView
from featurestore.errors import (
    DefinitionError,
    NotFoundError,
    OnlineStoreError,
    OnlineStoreUnavailableError,
    RegistryError,
    RequestError,
    SourceDataError,
)
from featurestore.lifecycle.deploy import deployed_features
from featurestore.online.reader import read_stored
from featurestore.registry._convert import (
    entity_to_proto,
    field_to_proto,
    odfv_to_proto,
    service_to_proto,
    view_to_proto,
)
from featurestore.serving import codec, lookup
from featurestore.serving.metrics import ServerMetrics

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

log = logging.getLogger(__name__)
Reply = TypeVar("Reply")

_PUSH_TARGETS = {
    pb.PUSH_TARGET_ONLINE: "online",
    pb.PUSH_TARGET_OFFLINE: "offline",
    pb.PUSH_TARGET_ONLINE_AND_OFFLINE: "online_and_offline",
}


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """The status code and message a caller gets for ``exc``."""
    if isinstance(exc, _Abort):
        return exc.code, str(exc)
    if isinstance(exc, (NotFoundError, RequestError, DefinitionError, SourceDataError)):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, OnlineStoreUnavailableError):
        return grpc.StatusCode.UNAVAILABLE, f"the online store is unavailable: {exc}"
    if isinstance(exc, OnlineStoreError):
        return grpc.StatusCode.INTERNAL, f"the online store failed: {exc}"
    if isinstance(exc, RegistryError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    log.exception("internal error while serving")
    return grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__}); see the server log"


class FeatureServingServicer(pb_grpc.FeatureServingServicer):
    """Answers ``FeatureServing`` calls from ``store``.

    ``on_store_down`` is called when a call finds the online store unreachable, so health
    can turn NOT_SERVING at once rather than at the next probe.
    """

    def __init__(
        self,
        store: FeatureStore,
        metrics: ServerMetrics,
        *,
        max_entities: int = 10_000,
        pinned: bool = False,
        on_store_down: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.pinned = pinned
        self.flight_port = 0  # set by the server once Flight listens
        self.metrics = metrics
        self.max_entities = max_entities
        self.on_store_down = on_store_down

    # --- calls ----------------------------------------------------------------------------

    def GetOnlineFeatures(
        self, request: pb.GetOnlineFeaturesRequest, context: grpc.ServicerContext
    ) -> pb.GetOnlineFeaturesResponse:
        return self._call("GetOnlineFeatures", self._get_online, request, context)

    def Push(self, request: pb.PushRequest, context: grpc.ServicerContext) -> pb.PushResponse:
        return self._call("Push", self._push, request, context)

    def ListFeatureViews(
        self, request: pb.ListFeatureViewsRequest, context: grpc.ServicerContext
    ) -> pb.ListFeatureViewsResponse:
        return self._call("ListFeatureViews", self._list_views, request, context)

    def DescribeFeatureService(
        self, request: pb.DescribeFeatureServiceRequest, context: grpc.ServicerContext
    ) -> pb.DescribeFeatureServiceResponse:
        return self._call("DescribeFeatureService", self._describe_service, request, context)

    def GetServerInfo(
        self, request: pb.GetServerInfoRequest, context: grpc.ServicerContext
    ) -> pb.GetServerInfoResponse:
        return self._call("GetServerInfo", self._server_info, request, context)

    # --- work -----------------------------------------------------------------------------

    def _get_online(self, request: pb.GetOnlineFeaturesRequest) -> pb.GetOnlineFeaturesResponse:
        selection = request.WhichOneof("selection")
        features: list[str] | str
        if selection == "features":
            features = list(request.features.refs)
        elif selection == "feature_service":
            features = request.feature_service
        elif selection == "model":
            features = deployed_features(self.store, request.model)
        else:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "no features requested: set `features.refs` ('view:feature', ...), "
                "`feature_service` or `model`",
            )
        self._check_rows(request.entities, "entity")
        entities = codec.decode_rows(request.entities)
        version = self._version()
        with self.metrics.time_store("read"):
            stored = read_stored(self.store, features, entities, request.full_feature_names)
        return lookup.to_proto(stored, version)

    def _push(self, request: pb.PushRequest) -> pb.PushResponse:
        if not request.push_source:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "push_source is empty; name one")
        target = _PUSH_TARGETS.get(request.to)
        if target is None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"push target {request.to} is not a PushTarget; use 0 (online), 1 (offline) "
                "or 2 (online and offline)",
            )
        self._check_rows(request.columns, "pushed")
        rows = codec.decode_table(request.columns, "pushed")
        with self.metrics.time_store("push"):
            count = self.store.push(request.push_source, rows, to=target)
        return pb.PushResponse(rows=count)

    def _list_views(self, request: pb.ListFeatureViewsRequest) -> pb.ListFeatureViewsResponse:
        version = self._version()
        defs = self.store.definitions()
        return pb.ListFeatureViewsResponse(
            entities=[entity_to_proto(e) for e in defs.entities.values()],
            feature_views=[view_to_proto(v) for v in defs.feature_views.values()],
            on_demand_feature_views=[
                odfv_to_proto(v) for v in defs.on_demand_feature_views.values()
            ],
            registry_version=version,
        )

    def _describe_service(
        self, request: pb.DescribeFeatureServiceRequest
    ) -> pb.DescribeFeatureServiceResponse:
        version = self._version()
        defs = self.store.definitions()
        service = defs.feature_service(request.name)
        reply = pb.DescribeFeatureServiceResponse(
            feature_service=service_to_proto(service), registry_version=version
        )
        keys: dict[str, Any] = {}
        for selection in defs.select(service):
            view = selection.view
            if isinstance(view, FeatureView):
                keys.update(view.key_schema)
            else:
                for source in view.source_views:
                    keys.update(source.key_schema)
                for request_source in view.request_sources:
                    keys.update({f.name: f.dtype for f in request_source.schema})
            fields = {f.name: f for f in view.schema}
            for name in selection.features:
                reply.feature_columns.append(field_to_proto(fields[name]))
        for name, dtype in keys.items():
            reply.entity_columns.add(name=name, dtype=str(dtype))
        return reply

    def _server_info(self, request: pb.GetServerInfoRequest) -> pb.GetServerInfoResponse:
        return pb.GetServerInfoResponse(
            server_version=__version__,
            project=self.store.project,
            registry_version=self._version(),
            registry_pinned=self.pinned,
            flight_port=self.flight_port,
        )

    # --- plumbing -------------------------------------------------------------------------

    def _check_rows(self, columns: Any, what: str) -> None:
        lengths = {len(c.column.nulls) or _length(c.column) for c in columns}
        count = max(lengths, default=0)
        if count > self.max_entities:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the request has {count} {what} rows; this server accepts at most "
                f"{self.max_entities} per call (--max-entities); split the request",
            )
        if not columns:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"no {what} columns were sent")

    def _version(self) -> str:
        version = self.store.pinned_version or self.store.registry.head()
        if version is None:
            msg = "the registry is empty; run `featurestore apply` in the repo first"
            raise RegistryError(msg)
        return version

    def _call(
        self,
        method: str,
        work: Callable[[Any], Reply],
        request: Any,
        context: grpc.ServicerContext,
    ) -> Reply:
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                raise _Abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the deadline passed")
            return work(request)
        except Exception as exc:
            code, message = status_of(exc)
            if isinstance(exc, OnlineStoreUnavailableError):
                self.on_store_down()
            _abort(context, code, message)
        finally:
            self.metrics.record(method, code.name, time.perf_counter() - start)


def _length(col: pb.ValueColumn) -> int:
    kind = col.WhichOneof("values")
    if kind is None:
        return 0
    if kind == "list_values":
        return max(len(col.list_values.offsets) - 1, 0)
    field = getattr(col, kind)
    return len(field.micros if kind == "timestamp_values" else field.values)


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")

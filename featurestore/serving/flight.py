"""Training frames over Arrow Flight.

A client opens a ``DoExchange`` whose descriptor command is JSON::

    {"features": ["view:feature", ...]}  or  {"feature_service": "name"},
    optionally "full_feature_names": true, "filter_by_created_timestamp": true

writes the entity rows (join keys, ``event_timestamp``, labels) as record batches, closes
its side, and reads the point-in-time-correct frame back as a stream of record batches.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.flight as fl

from featurestore.errors import (
    DefinitionError,
    FeatureStoreError,
    NotFoundError,
    RequestError,
    SourceDataError,
)
from featurestore.serving.auth import Scope, Tokens, bearer, read_pem

if TYPE_CHECKING:
    from featurestore.serving.metrics import ServerMetrics
    from featurestore.serving.server import ServeOptions
    from featurestore.store import FeatureStore

METHOD = "Flight/DoExchange"
_FLAGS = ("full_feature_names", "filter_by_created_timestamp")


def parse_command(command: bytes) -> dict[str, Any]:
    """The request a descriptor command carries, as keyword arguments of
    ``get_historical_features``; malformed commands raise ``RequestError`` naming the key."""
    try:
        request = json.loads(command)
    except (ValueError, UnicodeDecodeError):
        request = None
    if not isinstance(request, dict):
        msg = 'the Flight command must be a JSON object such as {"features": ["view:f"]}'
        raise RequestError(msg)
    unknown = set(request) - {"features", "feature_service", *_FLAGS}
    if unknown:
        msg = f"the Flight command has unknown keys {sorted(unknown)}; allowed: "
        msg += f"'features' or 'feature_service', and {', '.join(map(repr, _FLAGS))}"
        raise RequestError(msg)
    features, service = request.get("features"), request.get("feature_service")
    if (features is None) == (service is None):
        msg = "the Flight command needs exactly one of 'features' (a list) or 'feature_service'"
        raise RequestError(msg)
    if features is not None and (
        not isinstance(features, list)
        or not features
        or not all(isinstance(f, str) and f for f in features)
    ):
        msg = f"'features' must be a non-empty list of 'view:feature' strings, got {features!r}"
        raise RequestError(msg)
    if service is not None and (not isinstance(service, str) or not service):
        msg = f"'feature_service' must be a feature service's name, got {service!r}"
        raise RequestError(msg)
    flags = {name: request.get(name, False) for name in _FLAGS}
    for name, value in flags.items():
        if not isinstance(value, bool):
            msg = f"{name!r} must be true or false, got {value!r}"
            raise RequestError(msg)
    return {"features": features if features is not None else service, **flags}


class _AuthMiddlewareFactory(fl.ServerMiddlewareFactory):
    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens

    def start_call(self, info: fl.CallInfo, headers: dict[str, list[str]]) -> None:
        values = headers.get("authorization", [])
        token = bearer([("authorization", v) for v in values[:1]])
        if token is None:
            msg = "this server needs a token: send header 'authorization: Bearer <token>'"
            raise fl.FlightUnauthenticatedError(msg)
        scope = self.tokens.scope_of(token)
        if scope is None or scope < Scope.READ:
            raise fl.FlightUnauthenticatedError("the token is not valid on this server")


class FlightFrameServer(fl.FlightServerBase):
    """Serves ``store.get_historical_features`` over ``DoExchange`` (listening on creation)."""

    def __init__(self, store: FeatureStore, options: ServeOptions, metrics: ServerMetrics):
        tls = options.tls
        scheme = "grpc+tls" if tls is not None else "grpc"
        kwargs: dict[str, Any] = {}
        if tls is not None:
            kwargs["tls_certificates"] = [(read_pem(tls.cert), read_pem(tls.key))]
            if tls.client_ca is not None:
                kwargs["verify_client"] = True
                kwargs["root_certificates"] = read_pem(tls.client_ca)
        if options.tokens:
            kwargs["middleware"] = {"auth": _AuthMiddlewareFactory(options.tokens)}
        super().__init__(f"{scheme}://{options.host}:{options.flight_port}", **kwargs)
        self.store = store
        self.metrics = metrics

    def do_exchange(
        self,
        context: fl.ServerCallContext,
        descriptor: fl.FlightDescriptor,
        reader: fl.MetadataRecordBatchReader,
        writer: fl.MetadataRecordBatchWriter,
    ) -> None:
        start = time.perf_counter()
        code = "OK"
        try:
            request = parse_command(descriptor.command or b"")
            entities = reader.read_all()
            job = self.store.get_historical_features(entities, **request)
            batches = job.to_batches()
            writer.begin(batches.schema)
            for batch in batches:
                if context.is_cancelled():
                    code = "CANCELLED"
                    return
                writer.write_batch(batch)
        except (NotFoundError, RequestError, DefinitionError, SourceDataError) as exc:
            code = "INVALID_ARGUMENT"
            raise pa.ArrowInvalid(str(exc)) from None
        except FeatureStoreError as exc:
            code = "INTERNAL"
            raise fl.FlightServerError(str(exc)) from None
        except Exception:
            code = "INTERNAL"
            raise
        finally:
            self.metrics.record(METHOD, code, time.perf_counter() - start)

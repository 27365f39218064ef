"""Who may call the server: bearer tokens with read and write scopes, TLS and mTLS.

Tokens are written ``scope:token``, one per line in a token file or comma-separated in the
``FEATURESTORE_TOKENS`` environment variable; ``scope`` is ``read`` or ``write`` (write
implies read). Clients send ``authorization: Bearer <token>``. Tokens are compared in
constant time against every configured token.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from featurestore.errors import ConfigError

if TYPE_CHECKING:
    from featurestore.serving.metrics import ServerMetrics

TOKENS_ENV = "FEATURESTORE_TOKENS"
HEADER = "authorization"


class Scope(enum.IntEnum):
    READ = 1
    WRITE = 2  # implies READ


# Full method name → the scope it needs. Methods not listed (health) need none.
METHOD_SCOPES: dict[str, Scope] = {
    "/featurestore.v1.FeatureServing/GetOnlineFeatures": Scope.READ,
    "/featurestore.v1.FeatureServing/Push": Scope.WRITE,
    "/featurestore.v1.FeatureServing/ListFeatureViews": Scope.READ,
    "/featurestore.v1.FeatureServing/DescribeFeatureService": Scope.READ,
    "/featurestore.v1.FeatureServing/GetServerInfo": Scope.READ,
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": Scope.READ,
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": Scope.READ,
}


@dataclass(frozen=True)
class Tokens:
    """Configured tokens and their scopes; empty means auth is off."""

    entries: tuple[tuple[bytes, Scope], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def scope_of(self, token: str | None) -> Scope | None:
        """The scope ``token`` grants, or None. Looks at every entry (constant time)."""
        given = (token or "").encode()
        found: Scope | None = None
        for secret, scope in self.entries:
            if hmac.compare_digest(secret, given) and (found is None or scope > found):
                found = scope
        return found


def parse_tokens(text: str, origin: str) -> Tokens:
    """Parse ``scope:token`` entries separated by newlines or commas; ``#`` starts a comment."""
    entries: list[tuple[bytes, Scope]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for raw in line.split("#", 1)[0].split(","):
            item = raw.strip()
            if not item:
                continue
            scope, sep, token = item.partition(":")
            if not sep or scope.strip().upper() not in Scope.__members__ or not token.strip():
                msg = (
                    f"{origin} line {lineno}: expected 'read:<token>' or 'write:<token>', "
                    f"got an entry starting {item[:6]!r}"
                )
                raise ConfigError(msg)
            entries.append((token.strip().encode(), Scope[scope.strip().upper()]))
    return Tokens(tuple(entries))


def load_tokens(token_file: str | Path | None = None) -> Tokens:
    """Tokens from ``token_file`` and the ``FEATURESTORE_TOKENS`` environment variable."""
    entries: list[tuple[bytes, Scope]] = []
    if token_file is not None:
        path = Path(token_file)
        try:
            text = path.read_text()
        except OSError as exc:
            msg = f"token file {path}: cannot read it ({exc.strerror})"
            raise ConfigError(msg) from None
        entries.extend(parse_tokens(text, f"token file {path}").entries)
        if not entries:
            msg = f"token file {path} has no tokens; add lines like 'read:<token>'"
            raise ConfigError(msg)
    env = os.environ.get(TOKENS_ENV, "")
    if env.strip():
        entries.extend(parse_tokens(env, f"${TOKENS_ENV}").entries)
    return Tokens(tuple(entries))


def bearer(metadata: Any) -> str | None:
    """The token of an ``authorization: Bearer <token>`` header, if any."""
    for key, value in metadata or ():
        if key == HEADER:
            text = value.decode() if isinstance(value, bytes) else value
            kind, _, token = text.partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    return None


def _deny(
    handler: grpc.RpcMethodHandler | None, code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler | None:
    """A handler of the same shape as ``handler`` that fails with ``code``."""
    if handler is None:
        return None

    def abort(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(abort)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(abort)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(abort)
    return grpc.unary_unary_rpc_method_handler(abort)


class TokenInterceptor(grpc.ServerInterceptor):
    """Rejects calls without a token of the scope their method needs."""

    def __init__(self, tokens: Tokens, metrics: ServerMetrics | None = None) -> None:
        self.tokens = tokens
        self.metrics = metrics

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        needed = METHOD_SCOPES.get(details.method)
        if needed is None:
            return handler
        method = details.method.rsplit("/", 1)[-1]
        token = bearer(details.invocation_metadata)
        scope = self.tokens.scope_of(token) if token is not None else None
        if scope is not None and scope >= needed:
            return handler
        if token is None:
            code = grpc.StatusCode.UNAUTHENTICATED
            message = "this server needs a token: send metadata 'authorization: Bearer <token>'"
        elif scope is None:
            code = grpc.StatusCode.UNAUTHENTICATED
            message = "the token is not valid on this server"
        else:
            code = grpc.StatusCode.PERMISSION_DENIED
            message = (
                f"{method} needs a token with the {needed.name.lower()} scope; "
                f"this token has {scope.name.lower()}"
            )
        if self.metrics is not None:
            self.metrics.record_denied(method, code.name)
        return _deny(handler, code, message)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for TLS; with ``client_ca`` clients must present a certificate it signed."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(read_pem(self.key), read_pem(self.cert))],
            root_certificates=read_pem(self.client_ca) if self.client_ca else None,
            require_client_auth=self.client_ca is not None,
        )


def read_pem(path: Path) -> bytes:
    """A PEM file's bytes; an unreadable file is a ``ConfigError`` naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        msg = f"TLS file {path}: cannot read it ({exc.strerror})"
        raise ConfigError(msg) from None


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, tokens: Tokens, tls: TlsFiles | None, insecure: bool) -> None:
    """Refuse a non-loopback bind that nobody authenticates, unless ``insecure``."""
    authenticated = bool(tokens) or (tls is not None and tls.client_ca is not None)
    if is_loopback(host) or authenticated or insecure:
        return
    msg = (
        f"refusing to serve on {host} without authentication: anyone who can reach it could "
        "read and push features. Pass --token-file (or set FEATURESTORE_TOKENS), or "
        "--tls-client-ca for mTLS, or --insecure if the network is trusted"
    )
    raise ConfigError(msg)

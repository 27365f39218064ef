"""``featurestore serve``: the gRPC feature server, Arrow Flight and Prometheus metrics."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from featurestore.cli import main
from featurestore.cli._context import CliContext
from featurestore.errors import ConfigError


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=6566, show_default=True, help="gRPC port (0: any free port).")
@click.option(
    "--flight-port",
    default=6567,
    show_default=True,
    help="Arrow Flight port for training frames; -1 turns Flight off.",
)
@click.option(
    "--metrics-port",
    default=9464,
    show_default=True,
    help="Prometheus /metrics port; -1 turns metrics off.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Threads answering gRPC calls [default: 2; 3 with --reuse-port]. They share one GIL: "
    "more threads overlap more store round trips but cost CPU in hand-offs. Measured on 2 "
    "cores: alone, 2 threads served the most calls per second; with two --reuse-port "
    "processes, 3 threads each served ~12% more than 2.",
)
@click.option(
    "--reuse-port",
    is_flag=True,
    help="Share the gRPC port with other `featurestore serve --reuse-port` processes (Linux "
    "SO_REUSEPORT): the kernel spreads connections over them. One process per core; give each "
    "its own --metrics-port and --flight-port (or -1).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tokens, one 'read:<token>' or 'write:<token>' per line (also $FEATURESTORE_TOKENS).",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), help="PEM cert.")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), help="PEM key.")
@click.option(
    "--tls-client-ca",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Require client certificates signed by this CA (mTLS).",
)
@click.option(
    "--insecure", is_flag=True, help="Allow a non-loopback address without authentication."
)
@click.option(
    "--registry-version", help="Serve this registry version (id or prefix), ignoring newer ones."
)
@click.option(
    "--reload-interval",
    default=5.0,
    show_default=True,
    help="Seconds between checks for a new registry version.",
)
@click.option(
    "--max-entities", default=10_000, show_default=True, help="Most entity rows per lookup."
)
@click.option(
    "--grace", default=10.0, show_default=True, help="Seconds in-flight calls get on SIGTERM."
)
@click.pass_obj
def serve(
    obj: CliContext,
    host: str,
    port: int,
    flight_port: int,
    metrics_port: int,
    workers: int | None,
    reuse_port: bool,
    token_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    insecure: bool,
    registry_version: str | None,
    reload_interval: float,
    max_entities: int,
    grace: float,
) -> None:
    """Serve online features over gRPC (with health and reflection), training frames over
    Arrow Flight, and Prometheus metrics, until SIGTERM (which drains in-flight calls)."""
    from featurestore.serving.auth import TlsFiles, load_tokens
    from featurestore.serving.server import FeatureServer, ServeOptions, serve_forever

    if (tls_cert is None) != (tls_key is None):
        msg = "--tls-cert and --tls-key go together; pass both for TLS"
        raise ConfigError(msg)
    if tls_client_ca is not None and tls_cert is None:
        msg = "--tls-client-ca (mTLS) needs --tls-cert and --tls-key"
        raise ConfigError(msg)
    tls = TlsFiles(tls_cert, tls_key, tls_client_ca) if tls_cert and tls_key else None
    options = ServeOptions(
        host=host,
        port=port,
        flight_port=None if flight_port < 0 else flight_port,
        metrics_port=None if metrics_port < 0 else metrics_port,
        workers=workers or (3 if reuse_port else 2),
        reuse_port=reuse_port,
        tokens=load_tokens(token_file),
        tls=tls,
        insecure=insecure,
        registry_version=registry_version,
        reload_interval=reload_interval,
        max_entities=max_entities,
        grace=grace,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = FeatureServer(obj.store, options)

    def announce() -> None:
        parts = [f"gRPC on {server.address}"]
        if server.flight is not None:
            parts.append(f"Flight on {host}:{server.flight.port}")
        if server.metrics_port is not None:
            parts.append(f"metrics on http://{host}:{server.metrics_port}/metrics")
        click.echo(f"featurestore serve: {', '.join(parts)}")
        sys.stdout.flush()  # a supervisor reading our output learns the ports now

    serve_forever(server, on_started=announce)
    click.echo("featurestore serve: stopped")

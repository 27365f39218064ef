"""The ``featurestore`` command.

Each group of commands lives in its own module and registers itself on ``main`` below.
Errors print one line (no traceback unless ``--debug``) and exit non-zero.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from featurestore.cli._context import CliContext, console, fail
from featurestore.errors import FeatureStoreError


class _Group(click.Group):
    """Turns our errors into one readable line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeatureStoreError as exc:
            if ctx.obj is not None and ctx.obj.debug:
                raise
            fail(str(exc))
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--repo",
    "repo",
    default=".",
    type=click.Path(file_okay=False),
    help="Run as if started in this feature repo (like git -C).",
)
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, repo: str, debug: bool) -> None:
    """featurestore: define features once, train on point-in-time-correct frames, serve them."""
    ctx.obj = CliContext(repo=repo, debug=debug)


@main.command()
def version() -> None:
    """Print the featurestore version."""
    from featurestore import __version__

    click.echo(f"featurestore {__version__}")


# Command groups, one module each.
from featurestore.cli import (  # noqa: E402
    jobs_cmds,  # noqa: F401
    lifecycle_cmds,  # noqa: F401
    offline_cmds,  # noqa: F401
    online_cmds,  # noqa: F401
    registry_cmds,  # noqa: F401
    repo_cmds,  # noqa: F401
    serve_cmds,  # noqa: F401
)

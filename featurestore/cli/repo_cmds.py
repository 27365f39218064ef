"""Repo commands: ``init``, ``plan``, ``apply``, ``list`` and ``describe``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from featurestore.cli import main
from featurestore.cli._context import CliContext, console
from featurestore.definitions import FeatureView
from featurestore.definitions.collection import KINDS, Definitions
from featurestore.registry.store import short
from featurestore.repo.diff import attributes, format_ttl
from featurestore.repo.fingerprint import data_fingerprint, metadata_fingerprint

LIST_KINDS = ("entities", "feature-views", "on-demand-feature-views", "feature-services")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a small working feature repo with sample data in DIRECTORY."""
    from featurestore.cli._scaffold import scaffold

    written = scaffold(directory)
    console.print(f"Created a feature repo in [bold]{escape(str(directory))}[/]:")
    for path in written:
        console.print(f"  {escape(str(path.relative_to(directory)))}")
    console.print(
        f"\nNext: [bold]featurestore -C {escape(str(directory))} plan[/] and "
        f"[bold]featurestore -C {escape(str(directory))} apply[/]",
        soft_wrap=True,
    )


@main.command()
@click.option("--exit-code", is_flag=True, help="Exit with 2 when there are changes (for CI).")
@click.option("--no-check-data", is_flag=True, help="Do not check sources against their data.")
@click.pass_obj
def plan(obj: CliContext, exit_code: bool, no_check_data: bool) -> None:
    """Show what `apply` would change in the registry, field by field.

    \b
    Each change is classified:
      breaking      a type, a removed feature or object, join keys, entities, the source,
                    the transformation, ttl
      non-breaking  a new feature or object, online, schedule, the order of features
      metadata      owner, tags, descriptions
    """
    result = obj.store.plan(check_data=not no_check_data)
    console.print(result.render_markup(), soft_wrap=True)
    if exit_code and result.has_changes:
        sys.exit(2)


@main.command()
@click.option("-m", "--message", default="", help="Why this change (kept in the history).")
@click.option("--no-check-data", is_flag=True, help="Do not check sources against their data.")
@click.pass_obj
def apply(obj: CliContext, message: str, no_check_data: bool) -> None:
    """Apply the repo's definitions as a new registry version (if anything changed)."""
    store = obj.store
    planned = store.plan(check_data=not no_check_data)
    console.print(planned.render_markup(), soft_wrap=True)
    result = store.apply(message, plan=planned)
    if result.applied_version is None:
        console.print("Nothing to apply; no new version written.")
    else:
        console.print(
            f"[green]Applied[/] version [bold]{short(result.applied_version)}[/] "
            f"(parent {short(result.base_version)}).",
            soft_wrap=True,
        )
    for warning in result.warnings[len(planned.warnings) :]:
        console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


@main.command("list")
@click.argument("kind", type=click.Choice(LIST_KINDS))
@click.pass_obj
def list_(obj: CliContext, kind: str) -> None:
    """List the applied entities, feature views, on-demand views or services."""
    defs = obj.store.definitions()
    table = _TABLES[kind](defs)
    if table.row_count == 0:
        console.print(f"No {kind.replace('-', ' ')} in project {defs.project!r}.")
    else:
        print_table(table)


@main.command()
@click.argument("name")
@click.pass_obj
def describe(obj: CliContext, name: str) -> None:
    """Show one applied entity, view or service in full."""
    defs = obj.store.definitions()
    item = defs.get(name)
    table = Table(title=f"{KINDS[type(item)]} {item.name}", show_header=False, title_justify="left")
    table.add_column("attribute", style="bold")
    table.add_column("value")
    for key, value in attributes(item).items():
        if key != "feature order":
            table.add_row(escape(key), escape(value))
    table.add_row("data fingerprint", short(data_fingerprint(item, defs)))
    table.add_row("metadata fingerprint", short(metadata_fingerprint(item)))
    print_table(table)


def print_table(table: Table) -> None:
    """Print a table; off a terminal (pipes, CI logs) wide enough not to cut values."""
    out = console if console.is_terminal else Console(highlight=False, width=200)
    out.print(table)


def _entities(defs: Definitions) -> Table:
    table = _table("name", "join keys", "owner", "description")
    for e in defs.entities.values():
        keys = ", ".join(f"{k} ({t})" for k, t in e.key_schema.items())
        table.add_row(e.name, keys, e.owner, escape(e.description))
    return table


def _feature_views(defs: Definitions) -> Table:
    table = _table("name", "entities", "features", "ttl", "online", "schedule", "source", "owner")
    for v in defs.feature_views.values():
        table.add_row(
            v.name,
            ", ".join(e.name for e in v.entities),
            "\n".join(f"{f.name}: {f.dtype}" for f in v.schema),
            format_ttl(v.ttl) or "-",
            "yes" if v.online else "no",
            v.schedule or "-",
            escape(v.batch_source.path),
            v.owner,
        )
    return table


def _on_demand(defs: Definitions) -> Table:
    table = _table("name", "sources", "features", "function", "owner")
    for v in defs.on_demand_feature_views.values():
        sources = ", ".join(
            s.name if isinstance(s, FeatureView) else f"request:{s.name}" for s in v.sources
        )
        features = "\n".join(f"{f.name}: {f.dtype}" for f in v.schema)
        table.add_row(v.name, sources, features, v.function, v.owner)
    return table


def _services(defs: Definitions) -> Table:
    table = _table("name", "features", "owner", "description")
    for s in defs.feature_services.values():
        features = "\n".join(f"{e.view}: {', '.join(e.features)}" for e in s.entries)
        table.add_row(s.name, features, s.owner, escape(s.description))
    return table


def _table(*columns: str) -> Table:
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column, style="cyan" if column == "name" else None)
    return table


_TABLES = {
    "entities": _entities,
    "feature-views": _feature_views,
    "on-demand-feature-views": _on_demand,
    "feature-services": _services,
}

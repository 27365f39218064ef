"""``featurestore registry history|show|diff|rollback``: browse and restore versions."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from featurestore.cli import main
from featurestore.cli._context import CliContext, console
from featurestore.cli.repo_cmds import print_table
from featurestore.definitions.collection import KINDS
from featurestore.registry.store import RegistrySnapshot, default_author, short
from featurestore.repo.diff import diff_definitions
from featurestore.repo.fingerprint import data_fingerprint
from featurestore.repo.plan import render_changes


@main.group()
def registry() -> None:
    """Browse the registry's versions, compare them and roll back."""


@registry.command()
@click.option("-n", "--limit", type=click.IntRange(min=1), help="Show at most N versions.")
@click.pass_obj
def history(obj: CliContext, limit: int | None) -> None:
    """List versions, newest first."""
    snapshots = obj.store.registry.history(limit=limit)
    if not snapshots:
        console.print("The registry is empty; run `featurestore apply` first.")
        return
    table = Table(header_style="bold")
    for column in ("version", "created (UTC)", "author", "message", "objects"):
        table.add_column(column)
    for i, snap in enumerate(snapshots):
        label = short(snap.version) + (" (HEAD)" if i == 0 else "")
        message = snap.message
        restored = short(snap.rolled_back_from)
        if snap.rolled_back_from and restored not in message:
            message = f"{message} (restores {restored})"
        table.add_row(
            f"[cyan]{label}[/]",
            snap.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(snap.author),
            escape(message),
            str(len(snap.definitions.all())),
        )
    print_table(table)


@registry.command()
@click.argument("version", default="HEAD")
@click.pass_obj
def show(obj: CliContext, version: str) -> None:
    """Show one version (a unique id prefix, HEAD or HEAD~N) and what it contains."""
    snap = obj.store.registry.read(version)
    _print_info(snap)
    table = Table(header_style="bold")
    for column in ("kind", "name", "data fingerprint"):
        table.add_column(column)
    defs = snap.definitions
    for item in defs.all():
        table.add_row(
            KINDS[type(item)], f"[cyan]{item.name}[/]", short(data_fingerprint(item, defs))
        )
    print_table(table)


@registry.command()
@click.argument("old")
@click.argument("new", default="HEAD")
@click.pass_obj
def diff(obj: CliContext, old: str, new: str) -> None:
    """What changed from version OLD to version NEW (default: HEAD)."""
    reg = obj.store.registry
    a, b = reg.read(old), reg.read(new)
    changes = diff_definitions(a.definitions, b.definitions)
    console.print(f"From {short(a.version)} to {short(b.version)}:")
    if not changes:
        console.print("No differences.")
    else:
        console.print(render_changes(changes), soft_wrap=True)


@registry.command()
@click.argument("version")
@click.option("-m", "--message", default="", help="Why (kept in the history).")
@click.pass_obj
def rollback(obj: CliContext, version: str, message: str) -> None:
    """Make a new version with the content of VERSION (history is kept)."""
    reg = obj.store.registry
    new = reg.rollback(version, author=default_author(obj.store.repo_path), message=message)
    snap = reg.read(new)
    console.print(
        f"[green]Rolled back[/]: version [bold]{short(new)}[/] restores "
        f"{short(snap.rolled_back_from)} (previous HEAD {short(snap.parent)}).",
        soft_wrap=True,
    )


def _print_info(snap: RegistrySnapshot) -> None:
    console.print(f"version   [bold cyan]{snap.version}[/]")
    console.print(f"parent    {snap.parent or '-'}")
    console.print(f"created   {snap.created_at.isoformat()}")
    console.print(f"author    {escape(snap.author)}")
    console.print(f"message   {escape(snap.message) or '-'}", soft_wrap=True)
    if snap.rolled_back_from:
        console.print(f"restores  {snap.rolled_back_from}")
    console.print(f"project   {escape(snap.definitions.project)}")

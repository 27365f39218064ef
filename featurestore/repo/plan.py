"""Plan and apply: compare the repo's definitions with the registry, then write a version.

A plan remembers the registry version it was made against; applying it is a
compare-and-swap on that version, so a plan made before someone else's apply fails with
"registry changed since your plan" instead of silently undoing their change. Applying an
unchanged repo writes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.text import Text

from featurestore.definitions.collection import Definitions
from featurestore.errors import FeatureStoreError, SourceDataError
from featurestore.online import layout_version
from featurestore.registry.store import default_author, short
from featurestore.repo.diff import ObjectChange, Severity, diff_definitions
from featurestore.repo.validate import check_data as check_sources

if TYPE_CHECKING:
    from featurestore.store import FeatureStore

_SYMBOL = {"add": ("+", "green"), "change": ("~", "yellow"), "remove": ("-", "red")}
_COLOUR = {
    Severity.BREAKING: "bold red",
    Severity.NON_BREAKING: "green",
    Severity.METADATA: "cyan",
}


@dataclass(frozen=True)
class Plan:
    """What ``apply`` would change, made against registry version ``base_version``."""

    project: str
    base_version: str | None
    definitions: Definitions
    changes: tuple[ObjectChange, ...]
    warnings: tuple[str, ...] = ()
    data_checked: bool = False
    applied_version: str | None = None
    # Views whose online values apply deletes: removed, taken offline, or laid out anew.
    online_cleanup: tuple[tuple[str, str], ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def has_breaking_changes(self) -> bool:
        return any(c.severity is Severity.BREAKING for c in self.changes)

    def summary(self) -> str:
        """``2 to add, 1 to change, 0 to remove (1 breaking)``."""
        counts = {a: sum(c.action == a for c in self.changes) for a in _SYMBOL}
        breaking = sum(c.severity is Severity.BREAKING for c in self.changes)
        return (
            f"{counts['add']} to add, {counts['change']} to change, "
            f"{counts['remove']} to remove ({breaking} breaking)"
        )

    def render_markup(self) -> str:
        """The plan as rich console markup."""
        base = f"version {short(self.base_version)}" if self.base_version else "an empty registry"
        lines = [f"Plan for project [bold]{escape(self.project)}[/] against {base}"]
        if not self.changes:
            lines.append("No changes: the registry already matches the repo.")
        else:
            lines.append("")
            lines.extend(_render_changes(self.changes))
            lines.append("")
            lines.append(f"Plan: {self.summary()}.")
        lines.extend(
            f"[red]online:[/] values of view [bold]{escape(view)}[/] will be deleted ({why})"
            for view, why in self.online_cleanup
        )
        lines.extend(f"[yellow]warning:[/] {escape(w)}" for w in self.warnings)
        if not self.data_checked:
            lines.append("[yellow]note:[/] source data was not checked (--no-check-data)")
        return "\n".join(lines)

    def render(self) -> str:
        """The plan as plain text, e.g. for a pull-request comment."""
        return Text.from_markup(self.render_markup()).plain


def render_changes(changes: tuple[ObjectChange, ...] | list[ObjectChange]) -> str:
    """Changes as rich markup, one object per line with its changed fields below."""
    return "\n".join(_render_changes(changes))


def _render_changes(changes: tuple[ObjectChange, ...] | list[ObjectChange]) -> list[str]:
    lines = []
    for change in changes:
        symbol, colour = _SYMBOL[change.action]
        severity = change.severity
        lines.append(
            f"  [{colour}]{symbol} {change.kind} {escape(change.name)}[/]"
            f"  [{_COLOUR[severity]}]({severity.value})[/]"
        )
        for f in change.fields:
            if f.old is None:
                what = f"[green]+ {f.field}[/]: {escape(f.new or '')}"
            elif f.new is None:
                what = f"[red]- {f.field}[/]: {escape(f.old)}"
            else:
                what = f"[yellow]~ {f.field}[/]: {escape(f.old)} -> {escape(f.new)}"
            lines.append(f"      {what}  [{_COLOUR[f.severity]}]({f.severity.value})[/]")
    return lines


def compute_plan(store: FeatureStore, check_data: bool = True) -> Plan:
    """Compare the repo with the registry's current version; with ``check_data``, check
    every source's data against its view (raises ``SourceDataError`` listing problems)."""
    repo = store.load_repo()
    head = store.registry.head()
    current = store.registry.read(head).definitions if head else None
    warnings: tuple[str, ...] = ()
    if check_data:
        result = check_sources(store, repo)
        if result.errors:
            listed = "\n".join(f"  - {e}" for e in result.errors)
            msg = (
                f"{len(result.errors)} problem(s) between the definitions and their data "
                f"(fix them, or plan with --no-check-data):\n{listed}"
            )
            raise SourceDataError(msg)
        warnings = result.warnings
    return Plan(
        project=repo.project,
        base_version=head,
        definitions=repo,
        changes=tuple(diff_definitions(current, repo)),
        warnings=warnings,
        data_checked=check_data,
        online_cleanup=_online_cleanup(current, repo),
    )


def _online_cleanup(current: Definitions | None, repo: Definitions) -> tuple[tuple[str, str], ...]:
    """Views whose stored online values no longer serve anyone after the apply."""
    if current is None:
        return ()
    cleanup = []
    for name, old in current.feature_views.items():
        new = repo.feature_views.get(name)
        if not old.online:
            continue
        if new is None:
            cleanup.append((name, "the view is removed"))
        elif not new.online:
            cleanup.append((name, "the view is no longer online"))
        elif layout_version(new) != layout_version(old):
            cleanup.append((name, "its keys or features changed; materialize it again"))
    return tuple(cleanup)


def apply_plan(store: FeatureStore, plan: Plan, message: str = "") -> Plan:
    """Write the plan's definitions as a new registry version, if it changes anything.

    Returns the plan with ``applied_version`` set (None when nothing changed).
    """
    if not plan.has_changes:
        return plan
    version = store.registry.commit(
        plan.definitions,
        parent=plan.base_version,
        author=default_author(store.repo_path),
        message=message,
    )
    warnings = list(plan.warnings)
    for view, _ in plan.online_cleanup:
        try:
            store.online_store.delete_view(view)
        except FeatureStoreError as exc:
            warnings.append(
                f"applied, but the online values of view {view!r} could not be deleted ({exc}); "
                "run `featurestore teardown` or apply again when the online store is reachable"
            )
    return dataclasses.replace(plan, applied_version=version, warnings=tuple(warnings))

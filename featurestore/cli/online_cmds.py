"""Online commands: ``materialize``, ``materialize-incremental``, ``online-get``, ``teardown``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from featurestore.cli import main
from featurestore.cli._context import CliContext, console
from featurestore.definitions import FeatureView
from featurestore.errors import RequestError
from featurestore.materialize.result import ViewMaterialization

if TYPE_CHECKING:
    from featurestore.store import FeatureStore


def _moment(value: str) -> datetime:
    if value.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not a time; use ISO 8601 (2026-11-24, 2026-11-24T06:00:00Z) or 'now'"
        raise click.BadParameter(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Moment(click.ParamType):
    name = "TIME"

    def convert(self, value: object, param: object, ctx: object) -> datetime:
        return value if isinstance(value, datetime) else _moment(str(value))


_VIEWS = click.option(
    "--views",
    "views",
    multiple=True,
    help="Only these views (repeat, or separate by commas). Default: every online view.",
)


def _view_names(views: Sequence[str]) -> list[str] | None:
    names = [n.strip() for v in views for n in v.split(",") if n.strip()]
    return names or None


@main.command()
@click.argument("start", type=_Moment())
@click.argument("end", type=_Moment())
@_VIEWS
@click.pass_obj
def materialize(obj: CliContext, start: datetime, end: datetime, views: Sequence[str]) -> None:
    """Write the latest value per entity with event time in [START, END] to the online store."""
    from featurestore.materialize.jobs import materialize as run

    _run(lambda progress: run(obj.store, start, end, views=_view_names(views), progress=progress))


@main.command("materialize-incremental")
@click.argument("end", type=_Moment())
@_VIEWS
@click.pass_obj
def materialize_incremental(obj: CliContext, end: datetime, views: Sequence[str]) -> None:
    """Materialize each view from its watermark up to END."""
    from featurestore.materialize.jobs import materialize_incremental as run

    _run(lambda progress: run(obj.store, end, views=_view_names(views), progress=progress))


def _run(job: Callable[[Callable[[str, int], None]], list[ViewMaterialization]]) -> None:
    started: dict[str, float] = {}
    tasks: dict[str, TaskID] = {}
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:>12,.0f} rows"),
        TextColumn("{task.fields[rate]:>12,.0f} rows/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:

        def progress(view: str, rows: int) -> None:
            if view not in tasks:
                started[view] = time.perf_counter()
                tasks[view] = bar.add_task(view, total=None, rate=0.0)
            rate = rows / max(time.perf_counter() - started[view], 1e-9)
            bar.update(tasks[view], completed=rows, rate=rate)

        results = job(progress)
        for task in tasks.values():
            bar.stop_task(task)
    _summary(results)
    if any(not r.ok for r in results):
        sys.exit(1)


def _summary(results: list[ViewMaterialization]) -> None:
    if not results:
        console.print("No online views to materialize.")
        return
    table = Table("view", "window (UTC)", "rows", "seconds", "rows/s", "result")
    table.columns[1].no_wrap = True
    for r in results:
        rate = r.rows_written / r.seconds if r.seconds > 0 else 0.0
        window = f"{r.start:%Y-%m-%d %H:%M} → {r.end:%Y-%m-%d %H:%M}"
        result = "[green]ok[/]" if r.ok else f"[red]failed:[/] {escape(r.error or '')}"
        table.add_row(
            r.view, window, f"{r.rows_written:,}", f"{r.seconds:.2f}", f"{rate:,.0f}", result
        )
    console.print(table)
    total = sum(r.rows_written for r in results)
    failed = sum(not r.ok for r in results)
    console.print(
        f"Materialized {total:,} rows in {len(results) - failed} view(s)"
        + (f"; [red]{failed} failed[/]" if failed else ".")
    )


@main.command("online-get")
@click.option(
    "--features", "features", multiple=True, help="view:feature (repeat, or comma-separate)."
)
@click.option("--service", help="A feature service instead of --features.")
@click.option(
    "--entity",
    "entities",
    multiple=True,
    required=True,
    help="key=value; repeat a key for several entity rows (also request fields).",
)
@click.option("--full-feature-names", is_flag=True, help="Name columns view__feature.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per entity row).")
@click.pass_obj
def online_get(
    obj: CliContext,
    features: Sequence[str],
    service: str | None,
    entities: Sequence[str],
    full_feature_names: bool,
    as_json: bool,
) -> None:
    """Look up the latest feature values of some entities in the online store."""
    refs = [f.strip() for item in features for f in item.split(",") if f.strip()]
    if bool(refs) == bool(service):
        raise click.UsageError("give either --features view:feature ... or --service NAME")
    store = obj.store
    wanted: list[str] | str = service if service else refs
    rows = _entity_columns(entities, _key_types(store, wanted))
    response = store.get_online_features(wanted, rows, full_feature_names=full_feature_names)
    table = response.to_arrow(with_status=True)
    records = table.to_pylist()
    if as_json:
        click.echo(json.dumps(records, default=str, indent=2))
        return
    for i, record in enumerate(records):
        out = Table("feature", "value", "status", "event time", title=f"entity row {i}")
        keys = ", ".join(f"{k}={record[k]}" for k in response.entities.column_names)
        out.caption = keys
        for col in response.features:
            value = record[col.name]
            stamp = record[f"{col.name}__event_timestamp"]
            out.add_row(
                col.name,
                escape(_show(value)),
                record[f"{col.name}__status"],
                f"{stamp:%Y-%m-%d %H:%M:%S}" if stamp else "-",
            )
        console.print(out)


def _show(value: object) -> str:
    if isinstance(value, (str, bytes)):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.7g}"
    return str(value)


def _key_types(store: FeatureStore, wanted: list[str] | str) -> dict[str, str]:
    """Column name to type name of the join keys and request fields of ``wanted``."""
    types: dict[str, str] = {}
    for sel in store.select(wanted):
        views = [sel.view] if isinstance(sel.view, FeatureView) else list(sel.view.source_views)
        for view in views:
            types.update({k: t.name for k, t in view.key_schema.items()})
        if not isinstance(sel.view, FeatureView):
            for req in sel.view.request_sources:
                types.update({f.name: f.dtype.name for f in req.schema})
    return types


def _entity_columns(entities: Sequence[str], types: dict[str, str]) -> dict[str, list[object]]:
    columns: dict[str, list[object]] = {}
    for item in entities:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r}: expected key=value, e.g. member_id=42")
        key = key.strip()
        columns.setdefault(key, []).append(_convert(key, raw, types.get(key, "String")))
    sizes = {k: len(v) for k, v in columns.items()}
    if len(set(sizes.values())) > 1:
        msg = f"each key needs the same number of --entity values (one per row), got {sizes}"
        raise click.BadParameter(msg)
    return columns


def _convert(key: str, raw: str, type_name: str) -> object:
    try:
        if type_name in {"Int32", "Int64"}:
            return int(raw)
        if type_name in {"Float32", "Float64"}:
            return float(raw)
        if type_name == "Bool":
            return {"true": True, "false": False, "1": True, "0": False}[raw.lower()]
    except (ValueError, KeyError):
        msg = f"--entity {key}={raw}: {key!r} is {type_name}; {raw!r} is not one"
        raise RequestError(msg) from None
    if type_name == "Bytes":
        return raw.encode()
    return raw


@main.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def teardown(obj: CliContext, yes: bool) -> None:
    """Remove every online value of this project (the registry and offline data stay)."""
    store = obj.store
    if not yes:
        click.confirm(f"Remove all online values of project {store.project!r}?", abort=True)
    store.teardown()
    console.print(f"Removed the online values of project [bold]{escape(store.project)}[/].")

"""Offline commands: ``training-frame``."""

from __future__ import annotations

import time

import click
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from featurestore.cli import main
from featurestore.cli._context import CliContext, console
from featurestore.errors import RequestError

_SQL_STARTS = ("select", "with", "from", "values", "table", "(")


@main.command("training-frame")
@click.option(
    "--entities",
    "entities",
    required=True,
    help="Entity rows: a Parquet file, directory, glob or URL, or a SQL query run by DuckDB "
    "(e.g. \"SELECT * FROM 'rows.parquet' WHERE ...\").",
)
@click.option(
    "--features",
    "features",
    multiple=True,
    help="A feature 'view:feature'; repeat it, or separate several with commas.",
)
@click.option("--service", help="A feature service: all of its features.")
@click.option("--out", required=True, help="Where to write the frame: a Parquet path or URL.")
@click.option("--full-feature-names", is_flag=True, help="Name columns 'view__feature'.")
@click.option(
    "--filter-by-created-timestamp",
    is_flag=True,
    help="Also require a row's created timestamp to be <= the entity row's time.",
)
@click.pass_obj
def training_frame(
    obj: CliContext,
    entities: str,
    features: tuple[str, ...],
    service: str | None,
    out: str,
    full_feature_names: bool,
    filter_by_created_timestamp: bool,
) -> None:
    """Write a point-in-time-correct training frame for ENTITIES to OUT.

    Relative paths are relative to the feature repo (see -C). The entity rows' time column
    is `event_timestamp`, or else their only timestamp column.
    """
    refs = [r.strip() for item in features for r in item.split(",") if r.strip()]
    if bool(refs) == bool(service):
        msg = "give the features to retrieve: --features view:feature ... or --service NAME"
        raise RequestError(msg)
    store = obj.store
    is_sql = entities.strip().lower().startswith(_SQL_STARTS)
    entity_source = entities if is_sql else store.resolve_path(entities)
    url = store.resolve_path(out)
    start = time.perf_counter()
    job = store.get_historical_features(
        entity_source,
        service if service else refs,
        full_feature_names=full_feature_names,
        filter_by_created_timestamp=filter_by_created_timestamp,
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("writing the training frame", total=None)
        rows = job.to_parquet(url, on_batch=lambda n: progress.advance(task, n))
    seconds = time.perf_counter() - start
    columns = len(job.schema)
    console.print(
        f"Wrote [bold]{rows:,}[/] rows x [bold]{columns}[/] columns to {escape(url)} "
        f"in {seconds:.1f} s",
        soft_wrap=True,
    )

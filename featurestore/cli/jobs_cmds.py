"""Job commands: ``scheduler``, ``jobs run-due|run|list|show``, ``backfill`` and ``status``."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from types import FrameType

import click
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from featurestore.cli import main
from featurestore.cli._context import CliContext, console, err_console
from featurestore.cli.online_cmds import _Moment
from featurestore.definitions.schedule import parse_duration
from featurestore.errors import NotFoundError
from featurestore.materialize.history import STATUSES, TRIGGERS, JobRecord
from featurestore.materialize.leases import DEFAULT_TTL
from featurestore.materialize.runner import JobContext, as_context
from featurestore.materialize.scheduler import DEFAULT_POLL, DEFAULT_WORKERS

_WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="Views materialized at the same time, at most.",
)
_NOW = click.option(
    "--now",
    type=_Moment(),
    default=None,
    help="Act as if it were this time (ISO 8601, UTC if no zone). Default: the clock.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _echo_json(data: object) -> None:
    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, timedelta):
            return value.total_seconds()
        raise TypeError(type(value).__name__)

    click.echo(json.dumps(data, default=plain, indent=2))


def _ctx(
    obj: CliContext, now: datetime | None = None, lease_ttl: float = DEFAULT_TTL
) -> JobContext:
    return as_context(JobContext.for_store(obj.store, lease_ttl=lease_ttl), now)


@main.command()
@_WORKERS
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_POLL,
    show_default=True,
    help="Seconds between checks for due views, at most.",
)
@click.option(
    "--lease-ttl",
    type=click.FloatRange(min=1),
    default=DEFAULT_TTL,
    show_default=True,
    help="Seconds a crashed scheduler keeps a view locked.",
)
@click.pass_obj
def scheduler(obj: CliContext, workers: int, poll: float, lease_ttl: float) -> None:
    """Run due views' incremental materialization on their schedules, until stopped.

    SIGTERM or Ctrl-C stops it after the running jobs end; a second one quits at once
    (the views' leases then expire by themselves).
    """
    from featurestore.materialize.scheduler import Scheduler

    logging.basicConfig(
        level=logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )
    loop = Scheduler(_ctx(obj, lease_ttl=lease_ttl), workers=workers, poll=poll)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if loop.stopping:
            os._exit(130)
        loop.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    views = [v for v, s in loop.ctx.views().items() if s]
    err_console.print(
        f"scheduler: project {obj.store.project!r}, {len(views)} scheduled view(s), "
        f"{workers} worker(s); SIGTERM or Ctrl-C stops it"
    )
    loop.run()
    err_console.print("scheduler: stopped")


@main.group()
def jobs() -> None:
    """Materialization jobs: run the due ones, list and show the history."""


@jobs.command("run-due")
@_WORKERS
@_NOW
@click.pass_obj
def run_due_cmd(obj: CliContext, workers: int, now: datetime | None) -> None:
    """Run every view that is due now, once, and exit (for cron, CronJobs, Airflow).

    Exits 1 if a job failed.
    """
    from featurestore.materialize.scheduler import run_due

    ran = run_due(_ctx(obj, now), workers=workers)
    if not ran:
        console.print("No view is due.")
        return
    _print_outcomes(ran)
    if any(j.status == "failed" for j in ran):
        sys.exit(1)


@jobs.command("run")
@click.argument("view")
@click.option("--end", type=_Moment(), default=None, help="Window end (default: now).")
@click.pass_obj
def run_cmd(obj: CliContext, view: str, end: datetime | None) -> None:
    """Materialize VIEW from its watermark up to END now, whatever its schedule."""
    from featurestore.materialize.scheduler import run_manual

    ctx = _ctx(obj)
    if view not in ctx.views():
        known = ", ".join(sorted(ctx.views())) or "none"
        raise NotFoundError(f"no online feature view named {view!r}; online views: {known}")
    outcome = run_manual(ctx, view, end or ctx.clock())
    if outcome == "busy":
        console.print(f"{view} is being materialized by another runner; try again later.")
        sys.exit(1)
    if outcome == "done":
        console.print(f"{view} is already materialized up to that time.")
        return
    _print_outcomes([outcome])
    if outcome.status == "failed":
        sys.exit(1)


@jobs.command("list")
@click.option("--view", default=None, help="Only this view's jobs.")
@click.option(
    "--status", type=click.Choice(STATUSES), default=None, help="Only jobs with this status."
)
@click.option("--trigger", type=click.Choice(TRIGGERS), default=None, help="Only this trigger.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@_JSON
@click.pass_obj
def list_cmd(
    obj: CliContext,
    view: str | None,
    status: str | None,
    trigger: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List jobs, newest first."""
    found = _ctx(obj).history.jobs(view=view, status=status, trigger=trigger, limit=limit)
    if as_json:
        _echo_json([asdict(j) for j in found])
        return
    if not found:
        console.print("No jobs.")
        return
    _print_jobs(found)


@jobs.command("show")
@click.argument("job_id")
@_JSON
@click.pass_obj
def show_cmd(obj: CliContext, job_id: str, as_json: bool) -> None:
    """Show one job (by id or a unique prefix of at least 8 characters)."""
    job = _ctx(obj).history.get(job_id)
    if as_json:
        _echo_json(asdict(job))
        return
    table = Table(show_header=False, box=None)
    rows = [
        ("id", job.id),
        ("view", job.view),
        ("status", _status(job)),
        ("trigger", job.trigger),
        ("attempt", str(job.attempt)),
        ("window", f"{_time(job.start)} → {_time(job.end)} (UTC)"),
        ("started", _time(job.started)),
        ("ended", _time(job.ended)),
        ("duration", _duration(job)),
        ("rows written", f"{job.rows_written:,}"),
        ("runner", job.runner),
        ("error", escape(job.error or "-")),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    console.print(table)


@jobs.command("prune")
@click.option(
    "--older-than", default="30d", show_default=True, help="Age of jobs to delete: 12h, 30d, ..."
)
@click.pass_obj
def prune_cmd(obj: CliContext, older_than: str) -> None:
    """Delete finished jobs older than --older-than (each view's last success is kept).

    Backfill chunks deleted this way are run again if the same backfill is rerun.
    """
    age = parse_duration(older_than)
    if age is None:
        raise click.BadParameter(f"{older_than!r}: give a number and a unit s, m, h or d, e.g. 30d")
    ctx = _ctx(obj)
    removed = ctx.history.prune(ctx.clock() - age)
    console.print(f"Deleted {removed} job record(s) older than {older_than}.")


@main.command()
@click.option("--view", required=True, help="The view to backfill.")
@click.option("--start", type=_Moment(), required=True, help="Window start (ISO 8601).")
@click.option("--end", type=_Moment(), required=True, help="Window end (ISO 8601, or 'now').")
@click.option("--chunk", default="1d", show_default=True, help="Chunk length: 30m, 6h, 1d, ...")
@click.pass_obj
def backfill(obj: CliContext, view: str, start: datetime, end: datetime, chunk: str) -> None:
    """Materialize VIEW over [START, END] chunk by chunk; rerun to resume after a stop."""
    from featurestore.materialize.backfill import backfill as run
    from featurestore.materialize.backfill import chunk_windows

    size = parse_duration(chunk)
    if size is None or size <= timedelta(0):
        raise click.BadParameter(f"{chunk!r}: give a number and a unit s, m, h or d, e.g. 1d")
    ctx = _ctx(obj)
    total = len(chunk_windows(start, end, size))
    columns = (
        TextColumn(f"[bold]{escape(view)}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rows]:>12,} rows  {task.fields[note]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(view, total=total, rows=0, note="")
        rows = 0

        def on_chunk(window: tuple[datetime, datetime], job: JobRecord | None) -> None:
            nonlocal rows
            rows += job.rows_written if job else 0
            note = f"{window[0]:%Y-%m-%d %H:%M} " + (
                "skipped (done)" if job is None else job.status
            )
            bar.update(task, advance=1, rows=rows, note=note)

        report = run(ctx, view, start, end, size, on_chunk=on_chunk)
    ran = len(report.ran) - (1 if report.failed else 0)
    console.print(
        f"Backfilled {ran} chunk(s), {rows:,} rows; skipped {len(report.skipped)} already done."
    )
    if report.failed is not None:
        console.print(
            f"[red]Chunk {_time(report.failed.start)} → {_time(report.failed.end)} failed:[/] "
            f"{escape(report.failed.error or '')}\nFix it and run the same command to resume."
        )
        sys.exit(1)


@main.command()
@_NOW
@_JSON
@click.pass_obj
def status(obj: CliContext, now: datetime | None, as_json: bool) -> None:
    """Per online view: last success, watermark, lag behind schedule, next run, failing."""
    from featurestore.materialize.status import statuses

    ctx = _ctx(obj, now)
    moment = ctx.clock()
    found = statuses(ctx, moment)
    if as_json:
        _echo_json([asdict(s) for s in found])
        return
    if not found:
        console.print("No online feature views.")
        return
    table = Table(
        "view", "schedule", "watermark", "last success", "rows", "lag", "next run", "state"
    )
    for s in found:
        if s.failing:
            state = f"[red]failing[/] ({s.failures}x): {escape(s.last_error or '')}"
        elif s.failures:
            state = f"[yellow]retrying[/] ({s.failures}x)"
        elif s.running:
            state = "running"
        elif s.schedule and s.lag:
            state = "[yellow]behind[/]"
        else:
            state = "[green]ok[/]" if s.watermark or s.last_success else "never"
        table.add_row(
            s.view,
            s.schedule or "-",
            _minute(s.watermark),
            _minute(s.last_success),
            "-" if s.rows_written is None else f"{s.rows_written:,}",
            "-" if s.lag is None else _span(s.lag),
            _minute(s.next_run),
            state,
        )
    console.print(table)
    console.print(f"as of {moment:%Y-%m-%d %H:%M:%S} UTC")


def _print_jobs(found: list[JobRecord]) -> None:
    table = Table("id", "view", "trigger", "window (UTC)", "status", "rows")
    table.columns[0].no_wrap = True
    for j in found:
        window = f"{_minute(j.start)} → {_minute(j.end)}"
        table.add_row(j.id, j.view, j.trigger, window, _status(j), f"{j.rows_written:,}")
    console.print(table)


def _print_outcomes(ran: list[JobRecord]) -> None:
    """One line per job: easy to read in a cron or CronJob log."""
    for j in ran:
        console.print(
            f"{j.view}: {j.trigger} {_status(j)}, {j.rows_written:,} rows, "
            f"{_minute(j.start)} → {_minute(j.end)} UTC, attempt {j.attempt}, "
            f"{_duration(j)}s (job {j.id})",
            soft_wrap=True,
        )


def _status(job: JobRecord) -> str:
    color = {"succeeded": "green", "failed": "red", "running": "yellow"}[job.status]
    text = f"[{color}]{job.status}[/]"
    return text + (f": {escape(job.error)}" if job.error and job.status == "failed" else "")


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _minute(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _duration(job: JobRecord) -> str:
    return "-" if job.ended is None else f"{(job.ended - job.started).total_seconds():.2f}"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return "".join(parts) or f"{secs}s"

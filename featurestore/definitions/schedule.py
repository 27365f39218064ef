"""Schedules for materialization: cron expressions, ``@hourly``-style aliases, ``@every 15m``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import croniter

ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
_EVERY = re.compile(r"^@every\s+(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

ALLOWED = "a cron expression ('*/15 * * * *'), @hourly, @daily, @weekly, @monthly or '@every 15m'"


def every_interval(schedule: str) -> timedelta | None:
    """The interval of an ``@every N[smhd]`` schedule, or None for a cron schedule."""
    match = _EVERY.match(schedule.strip())
    if not match:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def cron_expression(schedule: str) -> str | None:
    """The cron expression a schedule stands for, or None for an ``@every`` schedule."""
    schedule = schedule.strip()
    if every_interval(schedule) is not None:
        return None
    return ALIASES.get(schedule, schedule)


def is_valid(schedule: str) -> bool:
    """Whether ``schedule`` is a cron expression, an alias or ``@every N[smhd]``."""
    interval = every_interval(schedule)
    if interval is not None:
        return interval > timedelta(0)
    expr = cron_expression(schedule)
    return expr is not None and croniter.is_valid(expr)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_duration(text: str) -> timedelta | None:
    """``'15m'``, ``'6h'``, ``'1d'``, ``'30s'`` as a timedelta; None if not of that form."""
    return every_interval(f"@every {text.strip()}")


def latest_tick(schedule: str, now: datetime) -> datetime:
    """The greatest fire time of ``schedule`` at or before ``now`` (UTC). ``@every N`` fires
    at whole multiples of N since the Unix epoch, so every process agrees on the ticks."""
    now = _utc(now)
    interval = every_interval(schedule)
    if interval is not None:
        return _EPOCH + interval * ((now - _EPOCH) // interval)
    expr = cron_expression(schedule) or schedule
    tick: datetime = croniter(expr, now + timedelta(microseconds=1)).get_prev(datetime)
    return tick.astimezone(UTC)


def next_tick(schedule: str, after: datetime) -> datetime:
    """The smallest fire time of ``schedule`` strictly after ``after`` (UTC)."""
    after = _utc(after)
    interval = every_interval(schedule)
    if interval is not None:
        return _EPOCH + interval * ((after - _EPOCH) // interval + 1)
    expr = cron_expression(schedule) or schedule
    tick: datetime = croniter(expr, after).get_next(datetime)
    return tick.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

"""Schedules for materialization: cron expressions, ``@hourly``-style aliases, ``@every 15m``."""

from __future__ import annotations

import re
from datetime import timedelta

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

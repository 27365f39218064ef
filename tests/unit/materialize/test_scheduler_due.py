"""Schedule ticks and the due decision, at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from featurestore.definitions.schedule import latest_tick, next_tick, parse_duration
from featurestore.materialize.due import Progress, RetryPolicy, decide
from featurestore.materialize.history import JobRecord

US = timedelta(microseconds=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "now", "latest", "following"),
    [
        # exactly on a tick: that tick is the latest, the next one is strictly after
        ("@hourly", "2024-01-01T10:00:00", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
        # one microsecond before a tick: the previous tick is the latest
        ("@hourly", "2024-01-01T09:59:59.999999", "2024-01-01T09:00:00", "2024-01-01T10:00:00"),
        # one microsecond after a tick
        ("@hourly", "2024-01-01T10:00:00.000001", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
        # @daily crosses a day boundary
        ("@daily", "2024-01-01T23:59:59", "2024-01-01T00:00:00", "2024-01-02T00:00:00"),
        # a plain cron expression: every 15 minutes
        ("*/15 * * * *", "2024-01-01T10:14:59", "2024-01-01T10:00:00", "2024-01-01T10:15:00"),
        # weekly alias: 2024-01-07 is a Sunday
        ("@weekly", "2024-01-10T12:00:00", "2024-01-07T00:00:00", "2024-01-14T00:00:00"),
        # monthly alias over a leap-year February
        ("@monthly", "2024-02-29T12:00:00", "2024-02-01T00:00:00", "2024-03-01T00:00:00"),
        # @every anchors at the Unix epoch, so all processes agree on ticks
        ("@every 15m", "2024-01-01T10:15:00", "2024-01-01T10:15:00", "2024-01-01T10:30:00"),
        # @every just before its tick
        ("@every 15m", "2024-01-01T10:14:59.999999", "2024-01-01T10:00:00", "2024-01-01T10:15:00"),
        # @every in seconds
        ("@every 45s", "1970-01-01T00:01:31", "1970-01-01T00:01:30", "1970-01-01T00:02:15"),
        # @every 7d does not align with weeks: 1970-01-01 + 2817*7d
        ("@every 7d", "2024-01-01T00:00:00", "2023-12-28T00:00:00", "2024-01-04T00:00:00"),
    ],
)
def test_ticks_at_boundaries(schedule: str, now: str, latest: str, following: str) -> None:
    assert latest_tick(schedule, at(now)) == at(latest)
    assert next_tick(schedule, at(now)) == at(following)


def test_naive_and_other_zones_are_utc() -> None:
    from datetime import timezone

    plus2 = timezone(timedelta(hours=2))
    assert latest_tick("@hourly", datetime(2024, 1, 1, 10, 30)) == at("2024-01-01T10:00:00")
    assert latest_tick("@daily", datetime(2024, 1, 2, 1, 0, tzinfo=plus2)) == at(
        "2024-01-01T00:00:00"
    )


@given(
    schedule=st.sampled_from(["@hourly", "@every 15m", "*/7 * * * *", "@every 90s", "@daily"]),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
)
def test_latest_and_next_bracket_now(schedule: str, now: datetime) -> None:
    now = now.replace(tzinfo=UTC)
    latest, following = latest_tick(schedule, now), next_tick(schedule, now)
    assert latest <= now < following
    # no tick in between: the tick after `latest` is `following`
    assert next_tick(schedule, latest) == following
    assert latest_tick(schedule, following - US) == latest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d", timedelta(days=1)),  # days
        ("6h", timedelta(hours=6)),  # hours
        (" 30m ", timedelta(minutes=30)),  # surrounding spaces
        ("10s", timedelta(seconds=10)),  # seconds
        ("1w", None),  # weeks are not a unit
        ("d", None),  # no number
        ("1.5h", None),  # no fractions
    ],
)
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


def job(status: str, ended: datetime, end: datetime | None = None) -> JobRecord:
    return JobRecord(
        id=f"{ended:%Y%m%dT%H%M%S%f}-x",
        view="v",
        start=None,
        end=end or ended,
        trigger="schedule",
        started=ended,
        ended=ended,
        status=status,  # type: ignore[arg-type]
    )


def progress(done: datetime | None, failures: tuple[JobRecord, ...] = ()) -> Progress:
    return Progress(done_until=done, last_success=None, failures=failures, running=None)


POLICY = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=5), failing_after=3)


def test_never_run_view_is_due_now_up_to_the_latest_tick() -> None:
    now = at("2024-01-01T10:20:00")
    d = decide("@hourly", progress(None), now, POLICY)
    assert (d.due, d.target, d.next_run, d.lag) == (True, at("2024-01-01T10:00:00"), now, None)


@pytest.mark.parametrize(
    ("done", "now", "due", "next_run"),
    [
        # done exactly at the latest tick: on time, next run is the next tick
        ("2024-01-01T10:00:00", "2024-01-01T10:59:59", False, "2024-01-01T11:00:00"),
        # the next tick arrives: due at once
        ("2024-01-01T10:00:00", "2024-01-01T11:00:00", True, "2024-01-01T11:00:00"),
        # done a microsecond short of the tick: due
        ("2024-01-01T09:59:59.999999", "2024-01-01T10:00:00", True, "2024-01-01T10:00:00"),
        # done between ticks (a manual run): waits for the tick after it
        ("2024-01-01T10:30:00", "2024-01-01T10:45:00", False, "2024-01-01T11:00:00"),
        # done in the future (a manual run ahead of the clock): waits past it
        ("2024-01-01T12:30:00", "2024-01-01T10:45:00", False, "2024-01-01T13:00:00"),
    ],
)
def test_due_at_tick_boundaries(done: str, now: str, due: bool, next_run: str) -> None:
    d = decide("@hourly", progress(at(done)), at(now), POLICY)
    assert (d.due, d.next_run) == (due, at(next_run))


def test_downtime_is_one_window_to_the_latest_tick() -> None:
    done = at("2024-01-01T05:00:00")
    d = decide("@hourly", progress(done), at("2024-01-01T10:42:00"), POLICY)
    assert d.due and d.target == at("2024-01-01T10:00:00")
    assert d.lag == timedelta(hours=5)


@pytest.mark.parametrize(
    ("failures", "wait"),
    [
        (1, timedelta(seconds=30)),  # first retry after base
        (2, timedelta(seconds=60)),  # doubles
        (3, timedelta(seconds=120)),  # doubles again
        (5, timedelta(minutes=5)),  # 480s capped at 5 minutes
        (200, timedelta(minutes=5)),  # huge streaks do not overflow
    ],
)
def test_backoff_doubles_up_to_the_cap(failures: int, wait: timedelta) -> None:
    assert POLICY.backoff(failures) == wait
    last = at("2024-01-01T10:01:00")
    streak = tuple(job("failed", last - timedelta(seconds=i)) for i in range(failures))
    d = decide("@hourly", progress(at("2024-01-01T09:00:00"), streak), last + wait - US, POLICY)
    assert not d.due and d.next_run == last + wait
    assert decide("@hourly", progress(at("2024-01-01T09:00:00"), streak), last + wait, POLICY).due


@pytest.mark.parametrize(
    ("failures", "failing"),
    [(0, False), (2, False), (3, True), (4, True)],  # the limit is 3: failing from the 3rd
)
def test_failing_after_n_failures(failures: int, failing: bool) -> None:
    streak = tuple(job("failed", at("2024-01-01T10:00:00")) for _ in range(failures))
    d = decide("@hourly", progress(None, streak), at("2024-01-01T12:00:00"), POLICY)
    assert d.failing is failing


def test_no_retry_wait_once_caught_up() -> None:
    streak = (job("failed", at("2024-01-01T10:59:00")),)
    d = decide(
        "@hourly", progress(at("2024-01-01T11:00:00"), streak), at("2024-01-01T11:00:01"), POLICY
    )
    assert not d.due and d.retry_at is None and d.next_run == at("2024-01-01T12:00:00")


@given(
    minutes=st.integers(min_value=1, max_value=180),
    done_offset=st.integers(min_value=-600, max_value=600),
    now_offset=st.integers(min_value=0, max_value=600),
)
def test_due_matches_a_brute_force_reference(
    minutes: int, done_offset: int, now_offset: int
) -> None:
    """Reference: list every tick by stepping from the epoch; due iff a tick t has
    done < t <= now, and the window ends at the greatest such tick."""
    schedule = f"@every {minutes}m"
    base = datetime(1970, 1, 2, tzinfo=UTC)
    now = base + timedelta(minutes=now_offset)
    done = base + timedelta(minutes=done_offset, seconds=30)
    step = timedelta(minutes=minutes)
    ticks = []
    t = datetime(1970, 1, 1, tzinfo=UTC)
    while t <= max(now, done) + 2 * step:
        ticks.append(t)
        t += step
    pending = [t for t in ticks if done < t <= now]
    d = decide(schedule, progress(done), now, POLICY)
    assert d.due == bool(pending)
    assert d.target == max(t for t in ticks if t <= now)
    expected_next = now if pending else min(t for t in ticks if t > done)
    assert d.next_run == expected_next

"""Write deterministic, realistic Parquet data for every source of the streaming repo.

    python feature_repo/generate_data.py --rows 100000 [--seed 7] [--out DIR] [--end now]

``--rows N`` sets the size of the two largest sources (about N member activity snapshots
and N member x title engagement rows); sessions get N/2 rows, titles N/200, members N/20,
and the label files N/10 rows. Event times cover the 30 days before ``--end`` (by default
a fixed date, so the same seed writes identical bytes; ``--end now`` for a live demo, where
every member still active has a snapshot from the last hours). Data quirks on purpose:
created times a little after event times, a few late rows, recomputed rows (same key and
event time, later created time, earlier in the file) and nulls where a value is unknown.
Labels follow the members' traits: quieter members churn more, and their activity fades.

Files (under ``--out``, default ``feature_repo/data``):

    member_activity/day=YYYY-MM-DD/part-0.parquet   hourly per-member snapshots (hive)
    title_popularity.parquet                         daily per-title popularity
    member_title_engagement.parquet                  per member and title
    member_sessions/part-00000.parquet               sessions (the push source's history)
    churn_labels.parquet                             member_id, event_timestamp, churned
    ranking_requests.parquet                         member_id, title_id, event_timestamp,
                                                     device_type, local_hour, played
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
DEVICES = ["tv", "mobile", "web", "tablet"]
DEVICE_P = [0.46, 0.31, 0.15, 0.08]
GENRES = ["drama", "comedy", "documentary", "thriller", "kids", "sci-fi", "romance", "anime"]
GENRE_P = [0.22, 0.2, 0.1, 0.13, 0.1, 0.1, 0.08, 0.07]
TS = pa.timestamp("us", tz="UTC")
CATEGORIES = {
    "last_device_type": DEVICES,
    "session_device": DEVICES,
    "device_type": DEVICES,
    "genre": GENRES,
}


@dataclass(frozen=True)
class Frame:
    """A table as numpy columns (strings as category indexes, nulls as masks), cheap to
    reorder and extend; ``to_arrow`` builds the Arrow table once at the end."""

    columns: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, rows: np.ndarray) -> Frame:
        return Frame(
            {k: v[rows] for k, v in self.columns.items()},
            {k: v[rows] for k, v in self.nulls.items()},
        )

    def append(self, other: Frame) -> Frame:
        return Frame(
            {k: np.concatenate([v, other.columns[k]]) for k, v in self.columns.items()},
            {k: np.concatenate([v, other.nulls[k]]) for k, v in self.nulls.items()},
        )

    def sorted(self, key: str) -> Frame:
        """By event time (to the second), then ``key``; ties keep their order (stable)."""
        seconds = self.columns["event_timestamp"] // 1_000_000
        keys = self.columns[key] - self.columns[key].min()
        order = (seconds - seconds.min()) * (int(keys.max()) + 1) + keys  # fits in int64
        return self.take(np.argsort(order, kind="stable"))

    def to_arrow(self) -> pa.Table:
        arrays = {}
        for name, values in self.columns.items():
            mask = self.nulls.get(name)
            if name in CATEGORIES:
                indices = pa.array(values.astype(np.int32), mask=mask)
                arrays[name] = pa.DictionaryArray.from_arrays(
                    indices, pa.array(CATEGORIES[name])
                ).dictionary_decode()
            elif name.endswith("_timestamp"):
                arrays[name] = pa.array(values, TS, mask=mask)
            else:
                arrays[name] = pa.array(values, mask=mask)
        return pa.table(arrays)


@dataclass(frozen=True)
class Members:
    """Per-member traits every table draws from, so features and labels agree."""

    level: np.ndarray  # plays per day, lognormal
    device: np.ndarray  # index of the preferred device
    churner: np.ndarray  # cancels at the end of the window; activity fades before


@dataclass(frozen=True)
class Titles:
    weight: np.ndarray  # share of all plays (Zipf-like)
    genre: np.ndarray  # index into GENRES
    runtime: np.ndarray  # minutes per episode or film
    series: np.ndarray  # whether it has episodes
    rating: np.ndarray  # mean star rating, 1-5
    release_day: np.ndarray  # first day (0-based) it has data


def generate(rows: int, seed: int, out: Path, end: datetime) -> dict[str, int]:
    """Write every file under ``out``; returns rows written per file or folder."""
    if rows < 100:
        msg = f"--rows must be at least 100, got {rows}"
        raise ValueError(msg)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    start_us = _micros(end) - DAYS * DAY_US
    members = _members(rngs[0], max(50, rows // 20))
    titles = _titles(rngs[1], max(20, rows // 200))
    out.mkdir(parents=True, exist_ok=True)
    return {
        "member_activity/": _member_activity(rngs[2], rows, members, start_us, out),
        "title_popularity.parquet": _title_popularity(rngs[3], titles, start_us, out),
        "member_title_engagement.parquet": _engagement(
            rngs[4], rows, members, titles, start_us, out
        ),
        "member_sessions/": _sessions(rngs[5], rows // 2, members, start_us, out),
        "churn_labels.parquet": _churn_labels(rngs[6], rows // 10, members, start_us, out),
        "ranking_requests.parquet": _ranking_requests(
            rngs[7], rows // 10, members, titles, start_us, out
        ),
    }


def _members(rng: np.random.Generator, n: int) -> Members:
    level = rng.lognormal(mean=0.0, sigma=0.8, size=n)
    churn_p = 1 / (1 + np.exp(2.2 + 1.3 * np.log(level)))  # quieter members churn more
    return Members(
        level=level,
        device=rng.choice(len(DEVICES), size=n, p=DEVICE_P),
        churner=rng.random(n) < churn_p,
    )


def _titles(rng: np.random.Generator, n: int) -> Titles:
    weight = 1.0 / np.arange(1, n + 1) ** 1.1
    weight = rng.permutation(weight / weight.sum())
    series = rng.random(n) < 0.4
    released_late = rng.random(n) < 0.1
    return Titles(
        weight=weight,
        genre=rng.choice(len(GENRES), size=n, p=GENRE_P),
        runtime=np.where(series, rng.normal(42, 10, n), rng.normal(105, 20, n)).clip(20, 200),
        series=series,
        rating=rng.normal(3.6, 0.5, n).clip(1, 5),
        release_day=np.where(released_late, rng.integers(1, DAYS, n), 0),
    )


def _member_activity(
    rng: np.random.Generator, n: int, members: Members, start_us: int, out: Path
) -> int:
    # Random snapshots, plus each still-active member's snapshot of the last hours, so
    # their values are fresh at the end of the window (a churner's went quiet).
    active = np.flatnonzero(~members.churner)
    member = np.concatenate([rng.integers(0, len(members.level), n), active])
    last = DAYS * 24 - rng.integers(0, 3, len(active))
    hour = np.concatenate([rng.integers(1, DAYS * 24 + 1, n), last])
    n = len(member)
    event = start_us + hour * HOUR_US  # snapshots are computed on the hour
    fade = np.where(members.churner[member], np.maximum(0.05, 1 - 0.9 * hour / (DAYS * 24)), 1.0)
    rate = 1.2 * members.level[member] * fade
    plays_7d = rng.poisson(rate * 7)
    plays_30d = plays_7d + rng.poisson(rate * 23)
    play_len = rng.gamma(4.0, 11.0, n)
    minutes_7d = np.round(plays_7d * play_len, 1)
    minutes_30d = np.round(minutes_7d + (plays_30d - plays_7d) * rng.gamma(4.0, 11.0, n), 1)
    none = plays_30d == 0
    distinct = np.where(none, 0, 1 + rng.binomial(np.maximum(plays_30d - 1, 0), 0.6))
    usual = rng.random(n) < 0.8
    device = np.where(usual, members.device[member], rng.choice(4, size=n, p=DEVICE_P))
    gap = rng.geometric(-np.expm1(-np.maximum(rate, 1e-3)), n) - 1  # days between plays
    since = np.where(plays_7d > 0, np.minimum(gap, 6), rng.integers(7, 30, n))
    frame = Frame(
        {
            "member_id": member.astype(np.int64) + 1_000_000,
            "event_timestamp": event,
            "created_timestamp": event + _delays(rng, n, 300, 1_800, 0.02),
            "plays_7d": plays_7d.astype(np.int64),
            "minutes_watched_7d": minutes_7d,
            "plays_30d": plays_30d.astype(np.int64),
            "minutes_watched_30d": minutes_30d,
            "distinct_titles_30d": distinct.astype(np.int64),
            "avg_completion_30d": rng.beta(5, 2, n).astype(np.float32),
            "last_device_type": device,
            "days_since_last_play": since.astype(np.int32),
        },
        {
            "avg_completion_30d": none,
            "last_device_type": none | (rng.random(n) < 0.01),
            "days_since_last_play": none,
        },
    )
    frame = _with_recomputes(rng, frame, 0.005, "plays_7d").sorted("member_id")
    table = frame.to_arrow()
    folder = out / "member_activity"
    shutil.rmtree(folder, ignore_errors=True)
    first_day = start_us - start_us % DAY_US
    days = (frame.columns["event_timestamp"] - first_day) // DAY_US
    bounds = np.searchsorted(days, np.arange(DAYS + 2))
    first = datetime.fromtimestamp(first_day // 1_000_000, UTC).date()
    for day in range(DAYS + 1):
        lo, hi = int(bounds[day]), int(bounds[day + 1])
        if hi > lo:
            part = folder / f"day={first + timedelta(days=day)}"
            part.mkdir(parents=True)
            pq.write_table(table.slice(lo, hi - lo), part / "part-0.parquet")
    return table.num_rows


def _title_popularity(rng: np.random.Generator, titles: Titles, start_us: int, out: Path) -> int:
    n = len(titles.weight)
    day = np.repeat(np.arange(1, DAYS + 1), n)
    title = np.tile(np.arange(n), DAYS)
    live = day > titles.release_day[title]
    weekday = ((start_us // DAY_US + day) + 3) % 7  # 1970-01-01 was a Thursday (3)
    weekend = weekday >= 5
    expected = 40.0 * n * titles.weight[title] * np.where(weekend, 1.3, 1.0)
    views = np.where(live, rng.poisson(expected), -1)
    order = np.argsort(-views.reshape(DAYS, n), axis=1, kind="stable")  # unreleased last
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n + 1)[None, :].repeat(DAYS, 0), axis=1)
    rank = ranks.reshape(-1)
    day, title, views, rank = day[live], title[live], views[live], rank[live]
    m = len(day)
    event = start_us + day * DAY_US  # computed for the day that just ended
    rating = (titles.rating[title] + rng.normal(0, 0.15, m)).clip(1, 5).astype(np.float32)
    frame = Frame(
        {
            "title_id": title.astype(np.int64) + 1,
            "event_timestamp": event,
            "created_timestamp": event + _delays(rng, m, 7_200, 14_400, 0.0),
            "views_24h": views.astype(np.int64),
            "unique_viewers_7d": rng.poisson(views * 4.2).astype(np.int64),
            "avg_rating_30d": rating,
            "trending_rank": rank.astype(np.int32),
            "genre": titles.genre[title],
        },
        {"avg_rating_30d": views < 5},
    )
    frame = _with_recomputes(rng, frame, 0.03, "views_24h").sorted("title_id")
    return _write(frame, out / "title_popularity.parquet")


def _engagement(
    rng: np.random.Generator, n: int, members: Members, titles: Titles, start_us: int, out: Path
) -> int:
    member = rng.choice(len(members.level), size=n, p=members.level / members.level.sum())
    title = rng.choice(len(titles.weight), size=n, p=titles.weight)
    event = start_us + rng.integers(1, DAYS * 24 * 3600, n) * 1_000_000
    series = titles.series[title]
    episodes = np.where(series, 1 + rng.geometric(0.25, n), 1)
    completion = rng.beta(2.0, 1.2, n).astype(np.float32)
    minutes = np.round(completion * titles.runtime[title] * episodes, 1)
    frame = Frame(
        {
            "member_id": member.astype(np.int64) + 1_000_000,
            "title_id": title.astype(np.int64) + 1,
            "event_timestamp": event,
            "created_timestamp": event + _delays(rng, n, 600, 3_600, 0.01),
            "completion_ratio": completion,
            "rewatch_count": rng.poisson(0.15, n).astype(np.int32),
            "minutes_watched": minutes,
            "episodes_watched": episodes.astype(np.int32),
            "thumbs_up": rng.random(n) < np.where(completion > 0.5, 0.85, 0.4),
        },
        {"thumbs_up": rng.random(n) < 0.85},  # most members never rate
    )
    frame = _with_recomputes(rng, frame, 0.005, "rewatch_count").sorted("member_id")
    return _write(frame, out / "member_title_engagement.parquet")


def _sessions(rng: np.random.Generator, n: int, members: Members, start_us: int, out: Path) -> int:
    member = rng.choice(len(members.level), size=n, p=members.level / members.level.sum())
    event = start_us + rng.integers(1, DAYS * 24 * 3600, n) * 1_000_000
    session_minutes = rng.gamma(2.0, 30.0, n).astype(np.float32)
    device = np.where(
        rng.random(n) < 0.75, members.device[member], rng.choice(4, size=n, p=DEVICE_P)
    )
    buffering = rng.poisson(np.where(device == 1, 0.6, 0.2))  # mobile networks rebuffer more
    frame = Frame(
        {
            "member_id": member.astype(np.int64) + 1_000_000,
            "event_timestamp": event,
            "created_timestamp": event + _delays(rng, n, 1, 5, 0.01),
            "session_minutes": np.round(session_minutes, 1),
            "session_plays": (1 + rng.poisson(session_minutes / 45)).astype(np.int32),
            "session_device": device,
            "buffering_events": buffering.astype(np.int32),
        },
        {"session_device": rng.random(n) < 0.005},
    )
    table = frame.sorted("member_id").to_arrow()
    folder = out / "member_sessions"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    chunk = 1_000_000
    for i, lo in enumerate(range(0, max(table.num_rows, 1), chunk)):
        pq.write_table(table.slice(lo, chunk), folder / f"part-{i:05d}.parquet")
    return table.num_rows


def _churn_labels(
    rng: np.random.Generator, n: int, members: Members, start_us: int, out: Path
) -> int:
    member = rng.integers(0, len(members.level), n)
    event = start_us + rng.integers(10 * 24 * 3600, DAYS * 24 * 3600, n) * 1_000_000
    churned = members.churner[member] ^ (rng.random(n) < 0.03)  # a little label noise
    frame = Frame(
        {
            "member_id": member.astype(np.int64) + 1_000_000,
            "event_timestamp": event,
            "churned": churned,
        }
    )
    return _write(frame, out / "churn_labels.parquet")


def _ranking_requests(
    rng: np.random.Generator, n: int, members: Members, titles: Titles, start_us: int, out: Path
) -> int:
    member = rng.integers(0, len(members.level), n)
    title = rng.choice(len(titles.weight), size=n, p=titles.weight)
    event = start_us + rng.integers(10 * 24 * 3600, DAYS * 24 * 3600, n) * 1_000_000
    local_hour = rng.choice(24, size=n, p=_hour_profile())
    played = rng.random(n) < 0.05 + 0.3 * titles.weight[title] / titles.weight.max()
    frame = Frame(
        {
            "member_id": member.astype(np.int64) + 1_000_000,
            "title_id": title.astype(np.int64) + 1,
            "event_timestamp": event,
            "device_type": members.device[member],
            "local_hour": local_hour.astype(np.int32),
            "played": played,
        }
    )
    return _write(frame, out / "ranking_requests.parquet")


def _write(frame: Frame, path: Path) -> int:
    table = frame.to_arrow()
    pq.write_table(table, path)
    return table.num_rows


def _hour_profile() -> np.ndarray:
    """How requests spread over the local day: low at night, peaking in the evening."""
    hours = np.arange(24)
    p = 0.2 + np.exp(-((hours - 21) ** 2) / 8) + 0.4 * np.exp(-((hours - 13) ** 2) / 10)
    return p / p.sum()


def _delays(rng: np.random.Generator, n: int, lo: int, hi: int, late: float) -> np.ndarray:
    """Created-time lag in microseconds: ``lo``-``hi`` seconds; a ``late`` share hours more."""
    seconds = rng.integers(lo, hi + 1, n) + (rng.random(n) < late) * rng.integers(
        3_600, 48 * 3_600, n
    )
    return seconds * 1_000_000


def _with_recomputes(rng: np.random.Generator, frame: Frame, share: float, column: str) -> Frame:
    """Add recomputed rows: the same key and event time, a later created time, and
    ``column`` corrected (by up to +-10%, at least 1) — ties that the created time breaks."""
    redo = frame.take(np.flatnonzero(rng.random(len(frame.columns[column])) < share))
    n = len(redo.columns[column])
    old = redo.columns[column]
    step = np.maximum(1, np.abs(old) // 10) * rng.choice([-1, 1], n)
    redo.columns[column] = np.maximum(old + step, 0).astype(old.dtype)
    redo.columns["created_timestamp"] = (
        redo.columns["created_timestamp"] + rng.integers(1, 7, n) * HOUR_US
    )
    return redo.append(frame)  # first, so file order disagrees with created order


def _micros(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000


def _parse_end(text: str) -> datetime:
    if text == "now":
        when = datetime.now(UTC)
    else:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            msg = f"expected an ISO date/time or 'now', got {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the largest sources")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "data", help="output dir"
    )
    parser.add_argument(
        "--end",
        type=_parse_end,
        default=ANCHOR,
        help=f"end of the 30-day window: ISO time or 'now' (default {ANCHOR:%Y-%m-%d})",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        counts = generate(args.rows, args.seed, args.out, args.end)
    except ValueError as exc:
        parser.error(str(exc))
    for name, count in counts.items():
        print(f"  {count:>12,} rows  {args.out / name}")
    took = time.perf_counter() - began
    print(f"wrote {sum(counts.values()):,} rows up to {args.end:%Y-%m-%d %H:%M} UTC in {took:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Small timing helpers shared by the benchmarks.

``run_child(argv)`` runs one measurement in a fresh Python process and returns the seconds it
printed plus the process's peak RSS (``os.wait4``: the honest number, per run). ``interleave``
runs several variants A B A B ... so a busy machine hurts them alike, and ``summary`` gives
median, p99 (the max, for few runs) and mean.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Runs:
    """Seconds and peak RSS (bytes) of each run of one variant."""

    seconds: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)
    extra: list[dict] = field(default_factory=list)


def run_child(argv: Sequence[str]) -> tuple[dict, int]:
    """Run ``python argv...``; it must print one JSON object as its last stdout line (with
    ``"seconds"``). Returns that object and the child's peak RSS in bytes."""
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    return result, usage.ru_maxrss * 1024  # Linux reports KiB


def interleave(
    variants: dict[str, Sequence[str]],
    repeats: int,
    on_run: Callable[[str, dict, int], None] | None = None,
) -> dict[str, Runs]:
    """Run every variant's child ``repeats`` times, alternating between variants."""
    runs = {name: Runs() for name in variants}
    for _ in range(repeats):
        for name, argv in variants.items():
            result, rss = run_child(argv)
            runs[name].seconds.append(float(result["seconds"]))
            runs[name].peak_rss.append(rss)
            runs[name].extra.append(result)
            if on_run is not None:
                on_run(name, result, rss)
    return runs


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; the max for q=1 or few values."""
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p99": percentile(values, 0.99),
        "mean": statistics.fmean(values),
    }


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"

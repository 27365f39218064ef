"""A scheduler process for the multi-process tests: ``python sched_worker.py MODE REPO DIR``.

MODE ``race``: wait for ``DIR/go``, run one ``run_due`` pass at the fixed test time with a
runner that logs each call to ``DIR/calls.log`` and dawdles, so the two racers overlap;
print the jobs it ran as JSON.
MODE ``hang``: materialize in batches of 2 rows and, after the first batch is written,
touch ``DIR/started`` and hang until killed (a scheduler dying mid-job).
MODE ``backfill``: backfill ``activity`` over BACKFILL in 1h chunks, hanging (after
touching ``DIR/started``) when the chunk starting at HANG_AT begins.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sched_repo import NOW

from featurestore import FeatureStore
from featurestore.materialize import jobs, latest
from featurestore.materialize.backfill import backfill
from featurestore.materialize.result import ViewMaterialization
from featurestore.materialize.runner import JobContext, store_runner
from featurestore.materialize.scheduler import run_due

LEASE_TTL = 2.0
BACKFILL = (NOW.replace(hour=6, minute=0), NOW.replace(minute=0))
HANG_AT = NOW.replace(hour=8, minute=0)


def main(mode: str, repo: str, shared: str) -> None:
    store = FeatureStore(repo)
    out = Path(shared)
    real = store_runner(store)

    def racing(view: str, start: datetime | None, end: datetime) -> ViewMaterialization:
        with open(out / "calls.log", "a") as log:  # O_APPEND: whole lines from both processes
            log.write(f"{os.getpid()} {view} {end.isoformat()}\n")
        time.sleep(0.3)
        return real(view, start, end)

    def hanging(view: str, start: datetime | None, end: datetime) -> ViewMaterialization:
        def progress(name: str, rows: int) -> None:
            if rows >= 4:  # the second batch is under way, so the first one is written
                (out / "started").touch()
                time.sleep(3600)

        latest.BATCH_ROWS = 2
        return jobs.materialize_incremental(store, end, views=[view], progress=progress)[0]

    def interrupted(view: str, start: datetime | None, end: datetime) -> ViewMaterialization:
        if start == HANG_AT:
            (out / "started").touch()
            time.sleep(3600)
        return real(view, start, end)

    runner = {"race": racing, "hang": hanging, "backfill": interrupted}[mode]
    ctx = JobContext.for_store(store, runner=runner, lease_ttl=LEASE_TTL, clock=lambda: NOW)
    if mode == "backfill":
        backfill(ctx, "activity", *BACKFILL, timedelta(hours=1))
        return
    if mode == "race":
        (out / f"ready-{os.getpid()}").touch()
        while not (out / "go").exists():
            time.sleep(0.01)
    ran = run_due(ctx, workers=2)
    print(json.dumps([[j.view, j.end.isoformat(), j.status] for j in ran]))


if __name__ == "__main__":
    main(*sys.argv[1:4])

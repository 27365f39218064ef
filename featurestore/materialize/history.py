"""Job history: one small JSON file per materialization job, kept with the registry.

Layout under ``registry.state_url("jobs")`` (any fsspec URL)::

    <view>/<job id>.json

A job id starts with the UTC time it was created, so names sort oldest to newest and the newest jobs
of a view are found without reading the others. Each file is written only by the runner
that holds the view's lease (see ``leases.py``), so concurrent schedulers never write the
same file; a local write is a temp file plus rename, an object-store write one PUT. The
directory listing *is* the index: nothing else has to be kept consistent.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import fsspec

from featurestore._atomic import write_atomic
from featurestore.errors import NotFoundError, RegistryError
from featurestore.materialize.result import ViewMaterialization

Trigger = Literal["schedule", "manual", "backfill"]
Status = Literal["running", "succeeded", "failed"]
TRIGGERS: tuple[str, ...] = get_args(Trigger)
STATUSES: tuple[str, ...] = get_args(Status)
ABANDONED = "abandoned: the runner stopped before finishing (its lease expired)"


@dataclass(frozen=True)
class JobRecord:
    """One materialization job of one view over one window."""

    id: str
    view: str
    start: datetime | None  # window start; None: from the view's watermark (incremental)
    end: datetime  # window end, inclusive
    trigger: Trigger
    started: datetime
    ended: datetime | None = None
    rows_written: int = 0
    status: Status = "running"
    error: str | None = None
    attempt: int = 1  # 1 + the failed attempts at this view just before this one
    runner: str = ""  # host:pid of the process that ran it

    @property
    def abandoned(self) -> bool:
        return self.status == "failed" and self.error == ABANDONED

    def to_json(self) -> bytes:
        data = asdict(self)
        for key in ("start", "end", "started", "ended"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return json.dumps(data, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> JobRecord:
        try:
            data: dict[str, Any] = json.loads(raw)
            for key in ("start", "end", "started", "ended"):
                if data.get(key) is not None:
                    data[key] = datetime.fromisoformat(data[key])
            record = cls(**data)
        except (ValueError, TypeError) as exc:
            msg = f"job history: {where} is not a job record ({exc}); delete or fix it"
            raise RegistryError(msg) from None
        if record.trigger not in TRIGGERS or record.status not in STATUSES:
            msg = f"job history: {where} has trigger {record.trigger!r}/status {record.status!r}"
            raise RegistryError(msg)
        return record


def new_job_id() -> str:
    """A unique id that sorts by creation time: ``20240101T100000123456-1a2b3c4d``. The
    time is the wall clock's, not the scheduler's (which tests move), so ids always sort
    in the order jobs were created."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobHistory:
    """The job records of one project, at an fsspec URL.

    >>> history = JobHistory("memory://doctest-jobs")
    >>> history.jobs()
    []
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        try:
            self._fs, root = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as exc:
            msg = f"job history {url!r}: cannot open this URL ({exc})"
            raise RegistryError(msg) from exc
        self._root = root.rstrip("/")
        self._finished: dict[str, JobRecord] = {}  # finished records never change: cached

    # --- writing --------------------------------------------------------------------------

    def start(
        self,
        view: str,
        start: datetime | None,
        end: datetime,
        trigger: Trigger,
        *,
        now: datetime,
        attempt: int = 1,
    ) -> JobRecord:
        """Record a job as running and return its record."""
        record = JobRecord(
            id=new_job_id(),
            view=view,
            start=start,
            end=end,
            trigger=trigger,
            started=now,
            attempt=attempt,
            runner=runner_name(),
        )
        self.save(record)
        return record

    def finish(self, record: JobRecord, result: ViewMaterialization, *, now: datetime) -> JobRecord:
        """Record the outcome of a running job."""
        done = replace(
            record,
            start=result.start,
            end=result.end,
            ended=now,
            rows_written=result.rows_written,
            status="succeeded" if result.ok else "failed",
            error=result.error,
        )
        self.save(done)
        return done

    def fail(self, record: JobRecord, error: str, *, now: datetime) -> JobRecord:
        """Record a running job as failed with ``error``."""
        done = replace(record, ended=now, status="failed", error=error)
        self.save(done)
        return done

    def save(self, record: JobRecord) -> None:
        path = self._path(record.view, record.id)
        data = record.to_json()
        try:
            write_atomic(self._fs, path, data)
        except OSError as exc:
            msg = f"job history {self.url}: cannot write {path} ({exc})"
            raise RegistryError(msg) from exc
        if record.status != "running":
            self._finished[record.id] = record

    def prune(self, before: datetime) -> int:
        """Delete finished jobs that ended before ``before``, except each view's last
        successful scheduled or manual job (``status`` shows it). Returns how many."""
        removed = 0
        for view in self.views():
            records = list(self.newest_first(view))
            keep = next(
                (r.id for r in records if r.status == "succeeded" and r.trigger != "backfill"),
                None,
            )
            for record in records:
                if record.id == keep or record.ended is None or record.ended >= before:
                    continue
                try:
                    self._fs.rm_file(self._path(view, record.id))
                except FileNotFoundError:
                    continue  # pruned by someone else meanwhile
                self._finished.pop(record.id, None)
                removed += 1
        return removed

    # --- reading --------------------------------------------------------------------------

    def views(self) -> list[str]:
        """Views that have at least one job."""
        try:
            entries = self._fs.ls(self._root, detail=True)
        except FileNotFoundError:
            return []
        return sorted(
            os.path.basename(str(e["name"]).rstrip("/"))
            for e in entries
            if e.get("type") == "directory"
        )

    def newest_first(self, view: str) -> Iterator[JobRecord]:
        """The view's jobs, newest first, read lazily (stop early to read few files)."""
        for job_id in reversed(self._ids(view)):
            record = self._read(view, job_id)
            if record is not None:
                yield record

    def jobs(
        self,
        view: str | None = None,
        status: str | None = None,
        trigger: str | None = None,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Jobs, newest first, filtered by view, status and trigger."""
        views = [view] if view is not None else self.views()
        found: list[JobRecord] = []
        for name in views:
            found.extend(
                r
                for r in self.newest_first(name)
                if (status is None or r.status == status)
                and (trigger is None or r.trigger == trigger)
            )
        found.sort(key=lambda r: r.id, reverse=True)
        return found[:limit] if limit is not None else found

    def get(self, job_id: str) -> JobRecord:
        """The job with this id, or a unique prefix of it (at least 8 characters)."""
        job_id = job_id.strip()
        matches = [
            (view, i)
            for view in self.views()
            for i in self._ids(view)
            if i == job_id or (len(job_id) >= 8 and i.startswith(job_id))
        ]
        if len(matches) != 1:
            problem = "no job has" if not matches else f"{len(matches)} jobs have"
            msg = f"{problem} the id {job_id!r}; see `featurestore jobs list` for ids"
            raise NotFoundError(msg)
        record = self._read(*matches[0])
        if record is None:
            raise NotFoundError(f"job {job_id!r} disappeared while being read")
        return record

    def _ids(self, view: str) -> list[str]:
        try:
            names = self._fs.ls(f"{self._root}/{view}", detail=False)
        except FileNotFoundError:
            return []
        base = (os.path.basename(str(n)) for n in names)
        return sorted(n[: -len(".json")] for n in base if n.endswith(".json"))

    def _read(self, view: str, job_id: str) -> JobRecord | None:
        cached = self._finished.get(job_id)
        if cached is not None:
            return cached
        path = self._path(view, job_id)
        try:
            raw = self._fs.cat_file(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RegistryError(f"job history: cannot read {path} ({exc})") from exc
        record = JobRecord.from_json(raw, path)
        if record.status != "running":
            self._finished[job_id] = record
        return record

    def _path(self, view: str, job_id: str) -> str:
        return f"{self._root}/{view}/{job_id}.json"

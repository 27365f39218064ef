"""What a materialization run did, per view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ViewMaterialization:
    """One view's run over one window."""

    view: str
    start: datetime  # window start (inclusive), UTC
    end: datetime  # window end (inclusive), UTC
    rows_written: int  # entities written to the online store
    seconds: float
    error: str | None = None  # None when the view fully succeeded

    @property
    def ok(self) -> bool:
        return self.error is None

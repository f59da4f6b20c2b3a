"""What the simulated site did, one record per 5-minute step: the store behind ``calendar_history``
(Tesla) and ``/usage`` (Amber). Powers are the step's constant flows in watts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

STEP_SECONDS = 300
KEEP = timedelta(days=120)
"""How far back records are kept (Amber serves 90 days of usage)."""


@dataclass(frozen=True)
class StepRecord:
    """One 5-minute step: flows in W (battery > 0 discharging, grid > 0 importing), and the state
    of charge in percent at its start."""

    solar: float
    load: float
    battery: float
    grid: float
    soc_percent: float

    def wh(self, watts: float) -> float:
        """Energy of a constant power over the step."""
        return watts * STEP_SECONDS / 3600.0


def step_index(t: datetime) -> int:
    """Index of the 5-minute step containing ``t``."""
    return int(t.timestamp()) // STEP_SECONDS


def step_start(index: int) -> datetime:
    """Start of step ``index`` (UTC)."""
    return datetime.fromtimestamp(index * STEP_SECONDS, UTC)


class SiteHistory:
    """Step records by index; the newest first, older than :data:`KEEP` pruned."""

    def __init__(self) -> None:
        self._steps: dict[int, StepRecord] = {}

    def record(self, index: int, step: StepRecord) -> None:
        """Store the record of a completed step."""
        self._steps[index] = step
        oldest = index - int(KEEP.total_seconds()) // STEP_SECONDS
        if len(self._steps) > int(KEEP.total_seconds()) // STEP_SECONDS + 288:
            for old in [i for i in self._steps if i < oldest]:
                del self._steps[old]

    def forget_from(self, index: int) -> None:
        """Drop records from ``index`` on (the clock was moved back)."""
        for later in [i for i in self._steps if i >= index]:
            del self._steps[later]

    def get(self, index: int) -> StepRecord | None:
        """The record of one step, if simulated."""
        return self._steps.get(index)

    def between(self, start: datetime, end: datetime) -> list[tuple[int, StepRecord]]:
        """Records of the steps starting in ``[start, end)``, in time order."""
        first, last = step_index(start), step_index(end - timedelta(microseconds=1))
        if step_start(first) < start:
            first += 1
        return [(i, self._steps[i]) for i in range(first, last + 1) if i in self._steps]

    def __len__(self) -> int:
        return len(self._steps)

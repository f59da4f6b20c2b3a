"""``GET /state/{state}/renewables/current`` (pure, no I/O; no API key needed).

The same intervals as ``/prices/current`` of a site in that state, and the same ``renewables``
values; ``resolution`` defaults to 30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from amber_tesla_sync.sandbox.amber_intervals import NEM, plan_slots, spot_value

STATES = {"nsw": "NSW1", "vic": "VIC1", "sa": "SA1", "qld": "QLD1"}
KINDS = {
    "ActualInterval": "ActualRenewable",
    "CurrentInterval": "CurrentRenewable",
    "ForecastInterval": "ForecastRenewable",
}


def renewable_descriptor(percent: float) -> str:
    """Amber's word for a share of renewables."""
    if percent >= 50.0:
        return "best"
    if percent >= 40.0:
        return "great"
    if percent >= 30.0:
        return "ok"
    if percent >= 20.0:
        return "notGreat"
    return "worst"


def _iso_z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_renewables(
    seed: int, region: str, now: datetime, next_: int, previous: int, resolution: int
) -> list[dict[str, Any]]:
    """The body at ``now``."""
    body = []
    for slot in plan_slots(now, resolution, next_, previous):
        value = spot_value(seed, region, slot, now).renewables
        body.append(
            {
                "type": KINDS[slot.kind],
                "duration": slot.minutes,
                "date": slot.start.astimezone(NEM).date().isoformat(),
                "startTime": _iso_z(slot.start + timedelta(seconds=1)),
                "endTime": _iso_z(slot.end),
                "nemTime": slot.end.astimezone(NEM).strftime("%Y-%m-%dT%H:%M:%S+10:00"),
                "renewables": value,
                "descriptor": renewable_descriptor(value),
            }
        )
    return body

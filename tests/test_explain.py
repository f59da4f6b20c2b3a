"""Why is the battery doing that: the pure explanation and drift, and their one-line rendering."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.render.status_view import drift_line, why_line
from amber_tesla_sync.status.explain import PlanSlot, drift, explain
from amber_tesla_sync.tesla.models import LiveStatus

ZONE = ZoneInfo("Australia/Brisbane")  # no daylight saving: labels are stable
START = dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.UTC)  # 16:00 local


def plan(buys: dict[int, float], sells: dict[int, float] | None = None) -> list[PlanSlot]:
    """48 slots from 16:00 local: buy 30 c and sell 5 c unless given (by slot index)."""
    slots = []
    for index in range(48):
        start = START + dt.timedelta(minutes=30 * index)
        label = f"{start.astimezone(ZONE):%H:%M}"
        slots.append((label, start, buys.get(index, 0.30), (sells or {}).get(index, 0.05)))
    return slots


# 04:00-06:00 local is slots 24..27 (16:00 + 12 h)
CHEAP = {24: 0.081, 25: 0.081, 26: 0.083, 27: 0.081}


@pytest.mark.parametrize(
    ("buys", "sells", "live", "expected"),
    [
        (
            {0: 0.081, 1: 0.081, 2: 0.083},
            None,
            {"battery_power": -3000, "grid_power": 3500},
            "charging from the grid: 16:00–17:30 is the cheapest window of the next 24 h at 8.1 c",
        ),
        (
            CHEAP,
            None,
            {"battery_power": -3000, "grid_power": 3500},
            "charging from the grid at 30.0 c now (the cheapest window is 04:00–06:00 at 8.1 c)",
        ),
        (
            {},
            {0: 0.45, 5: 0.20},
            {"battery_power": 5000, "grid_power": -4000},
            "exporting: sell 45.0 c now, the day's best",
        ),
        (
            {},
            {0: 0.25, 5: 0.45},
            {"battery_power": 5000, "grid_power": -4000},
            "exporting: sell 25.0 c now (the day's best is 45.0 c at 18:30)",
        ),
        (
            {0: 0.30, 38: 0.10},
            None,
            {"battery_power": 0, "grid_power": 400},
            "holding: cheaper energy is coming at 11:00 (10.0 c, 30.0 c now)",
        ),
        (
            CHEAP,
            None,
            {"battery_power": 2000, "grid_power": 10},
            "powering the home from the battery: buy 30.0 c now, above the cheapest window "
            "(04:00–06:00 at 8.1 c)",
        ),
        (
            {},
            {7: 0.40},
            {"battery_power": -2000, "grid_power": -100},
            "charging from solar: the tariff pays only 5.0 c for exports now (its best is 40.0 c "
            "at 19:30)",
        ),
    ],
)
def test_why_line(
    buys: dict[int, float], sells: dict[int, float] | None, live: dict[str, float], expected: str
) -> None:
    why = explain(plan(buys, sells), LiveStatus.parse(live))
    assert why is not None
    assert why_line(why, ZONE) == expected


def test_nothing_to_explain_without_live_data_or_a_plan() -> None:
    assert explain(plan({}), None) is None
    assert explain([], LiveStatus.parse({"battery_power": 0})) is None


def test_drift() -> None:
    pushed = {"16:00": (0.30, 0.05), "16:30": (0.30, 0.05)}
    at = START - dt.timedelta(minutes=25)
    same = drift(pushed, at, {"16:00": (0.3001, 0.05), "16:30": (0.30, 0.05)}, START)
    assert drift_line(same) == "it matches Amber's latest prices"
    assert same.age == dt.timedelta(minutes=25)
    moved = drift(pushed, at, {"16:00": (0.30, 0.05), "16:30": (0.30, 0.08)}, START)
    assert (moved.label, moved.side, moved.largest_cents) == ("16:30", "sell", 3.0)
    assert drift_line(moved) == (
        "it differs from Amber's latest prices by up to 3.0 c/kWh (16:30 sell)"
    )
    refused = drift(pushed, START - dt.timedelta(hours=3), None, START, "gaps")
    assert drift_line(refused) == "Amber's latest prices cannot be folded (gaps)"

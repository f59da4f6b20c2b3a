"""Why is the battery doing that? What it does now, read in terms of the pushed tariff, and how
far the pushed tariff has drifted from Amber's latest prices (pure: no I/O, ``now`` is an
argument; the sentences are made in render/status_view.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from amber_tesla_sync.tesla.models import LiveStatus

# (label, start, buy $/kWh, sell $/kWh) of each slot from now, as pushed
PlanSlot = tuple[str, dt.datetime, float, float]
Doing = Literal["charging_grid", "charging_solar", "exporting", "discharging", "holding"]
IDLE_WATTS = 50.0  # below this the battery or the grid counts as idle
SAME_DOLLARS = 0.005  # prices within half a cent count as equal
SLOT = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    price: float  # $/kWh (the lowest buy, or the best sell)


@dataclass(frozen=True)
class Why:
    doing: Doing
    buy: float  # the current slot's pushed prices, $/kWh
    sell: float
    cheapest: Window  # the cheapest buy window of the next 24 h
    in_cheapest: bool
    best_sell: Window  # the best sell window of the next 24 h
    at_best_sell: bool
    cheaper: Window | None  # the next slot with a lower buy price than now


def _window(plan: Sequence[PlanSlot], prices: Sequence[float], index: int) -> Window:
    """The run of slots around ``index`` whose price is within half a cent of its price."""
    price = prices[index]
    near = [abs(other - price) <= SAME_DOLLARS for other in prices]
    first = last = index
    while first > 0 and near[first - 1]:
        first -= 1
    while last + 1 < len(plan) and near[last + 1]:
        last += 1
    return Window(plan[first][1], plan[last][1] + SLOT, price)


def _doing(live: LiveStatus) -> Doing | None:
    battery, grid = live.battery_power, live.grid_power
    if battery is None:
        return None
    grid = grid or 0.0
    if battery < -IDLE_WATTS:
        return "charging_grid" if grid > IDLE_WATTS else "charging_solar"
    if battery > IDLE_WATTS:
        return "exporting" if grid < -IDLE_WATTS else "discharging"
    return "holding"


def explain(plan: Sequence[PlanSlot], live: LiveStatus | None) -> Why | None:
    """What the battery does now and the tariff's reasons, or None when either is unknown."""
    doing = _doing(live) if live is not None else None
    if doing is None or not plan:
        return None
    _, _, buy, sell = plan[0]
    low = min(range(len(plan)), key=lambda i: (plan[i][2], i))
    high = max(range(len(plan)), key=lambda i: (plan[i][3], -i))
    cheapest = _window(plan, [slot[2] for slot in plan], low)
    best_sell = _window(plan, [slot[3] for slot in plan], high)
    cheaper = next(
        (Window(s[1], s[1] + SLOT, s[2]) for s in plan[1:] if s[2] < buy - SAME_DOLLARS), None
    )
    return Why(
        doing=doing,
        buy=buy,
        sell=sell,
        cheapest=cheapest,
        in_cheapest=buy <= plan[low][2] + SAME_DOLLARS,
        best_sell=best_sell,
        at_best_sell=sell >= plan[high][3] - SAME_DOLLARS,
        cheaper=cheaper,
    )


@dataclass(frozen=True)
class Drift:
    """The pushed tariff against a tariff folded from Amber's latest prices."""

    pushed_at: dt.datetime
    age: dt.timedelta
    largest_cents: float  # the largest difference of any slot, buy or sell, c/kWh
    label: str | None  # the slot where it is
    side: str | None  # "buy" | "sell"
    refused: str | None = None  # the latest prices could not be folded (why)


def drift(
    pushed: Mapping[str, tuple[float, float]],
    pushed_at: dt.datetime,
    latest: Mapping[str, tuple[float, float]] | None,
    now: dt.datetime,
    refused: str | None = None,
) -> Drift:
    largest, where, side = 0.0, None, None
    for label, (buy, sell) in (latest or {}).items():
        before = pushed.get(label)
        if before is None:
            continue
        for name, old, new in (("buy", before[0], buy), ("sell", before[1], sell)):
            if abs(new - old) * 100 > largest:
                largest, where, side = abs(new - old) * 100, label, name
    return Drift(pushed_at, now - pushed_at, round(largest, 2), where, side, refused)

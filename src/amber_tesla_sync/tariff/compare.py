"""Compare two tariffs by what they mean, not their bytes: the buy and sell rate at every minute
of the week on every day of the year. Used to verify a push by reading the tariff back (Tesla
drops zero fields, writes ``toHour: 24``, may drop the ``ALL`` season) and to recognise a tariff
on the Powerwall that is not ours.

Demand charges ($/kW, import side) are compared the same way, a rate that is not there reading
as 0, whenever the expected tariff carries one: a read-back without them or with other values is
a difference. A tariff expected without demand charges is compared on its energy rates alone,
because the last push is remembered by its energy rates (a tariff rebuilt from them has no
demand charge), and the demand window follows the energy prices into the next push anyway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amber_tesla_sync.tariff.body import TARIFF_CODE
from amber_tesla_sync.tariff.validate import (
    MINUTES_PER_WEEK,
    Season,
    minute_name,
    rate_for,
    side_seasons,
)

Rates = tuple[float | None, ...]  # one rate per minute of the week


DEMAND = "demand_charges"
ENERGY = "energy_charges"


def _grid(charges: Mapping[str, Any], season: Season, missing: float | None = None) -> Rates:
    cache: dict[str | None, float | None] = {}
    rates = []
    for label in season.labels:
        if label not in cache:
            rate = rate_for(charges, season.name, label) if label is not None else None
            cache[label] = missing if rate is None and label is not None else rate
        rates.append(cache[label])
    return tuple(rates)


def _by_day(tariff: Mapping[str, Any], side: str, tree: str = ENERGY) -> dict[int, Rates] | None:
    """Day of a leap year → that day's rates per week minute; None when the side is unusable.
    ``tree``: the energy charges, or the demand charges (where a missing rate is 0)."""
    source: Mapping[str, Any] = tariff
    if side == "sell":
        sell = tariff.get("sell_tariff")
        if not isinstance(sell, Mapping):
            return None
        source = sell if "seasons" in sell else {**sell, "seasons": tariff.get("seasons")}
    problems: list[str] = []
    seasons = side_seasons(source, side, problems)
    charges = source.get(ENERGY)
    if not seasons or not isinstance(charges, Mapping):
        return None
    if tree == DEMAND:
        demand = source.get(DEMAND)
        charges = demand if isinstance(demand, Mapping) else {}
    days: dict[int, Rates] = {}
    for season in seasons:
        grid = _grid(charges, season, 0.0 if tree == DEMAND else None)
        for day in season.days:
            days.setdefault(day, grid)
    return days


def differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], tolerance: float = 1e-6
) -> list[str]:
    """What differs between two ``tariff_content_v2`` objects (empty: the same tariff)."""
    found = []
    for side in ("buy", "sell"):
        found.extend(_compare(side, _by_day(expected, side), _by_day(actual, side), tolerance))
    if has_demand_charge(expected):
        if not isinstance(actual.get(DEMAND), Mapping):
            found.append("demand: missing in the read-back")
        else:
            ours, theirs = _by_day(expected, "buy", DEMAND), _by_day(actual, "buy", DEMAND)
            found.extend(_compare("demand", ours, theirs, tolerance))
    return found


def has_demand_charge(tariff: Mapping[str, Any]) -> bool:
    """Whether a tariff charges for demand anywhere (a rate above 0 in ``demand_charges``)."""
    demand = tariff.get(DEMAND)
    if not isinstance(demand, Mapping):
        return False
    for block in demand.values():
        rates = block.get("rates") if isinstance(block, Mapping) else None
        if isinstance(rates, Mapping) and any(
            isinstance(rate, int | float) and rate > 0 for rate in rates.values()
        ):
            return True
    return False


def _compare(
    side: str,
    ours: dict[int, Rates] | None,
    theirs: dict[int, Rates] | None,
    tolerance: float,
) -> list[str]:
    if ours is None or theirs is None:
        if ours != theirs:
            return [f"{side}: {'missing' if theirs is None else 'unexpected'} in the read-back"]
        return []
    compared: set[tuple[int, int]] = set()
    found = []
    for day in range(1, 367):
        a, b = ours.get(day), theirs.get(day)
        if a is None or b is None:
            if a is not b:
                found.append(f"{side}: day {day} of the year is covered by only one tariff")
                break
            continue
        key = (id(a), id(b))
        if key in compared:
            continue
        compared.add(key)
        for minute in range(MINUTES_PER_WEEK):
            x, y = a[minute], b[minute]
            if x is None or y is None or abs(x - y) > tolerance:
                found.append(f"{side} at {minute_name(minute)}: sent {x}, read back {y}")
                break
    return found


def is_ours(tariff: Any) -> bool:
    return isinstance(tariff, Mapping) and tariff.get("code") == TARIFF_CODE

"""Compare two tariffs by what they mean, not their bytes: the buy and sell rate at every minute
of the week on every day of the year. Used to verify a push by reading the tariff back (Tesla
drops zero fields, writes ``toHour: 24``, may drop the ``ALL`` season) and to recognise a tariff
on the Powerwall that is not ours."""

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


def _grid(charges: Mapping[str, Any], season: Season) -> Rates:
    cache: dict[str | None, float | None] = {}
    rates = []
    for label in season.labels:
        if label not in cache:
            cache[label] = rate_for(charges, season.name, label) if label is not None else None
        rates.append(cache[label])
    return tuple(rates)


def _by_day(tariff: Mapping[str, Any], side: str) -> dict[int, Rates] | None:
    """Day of a leap year → that day's rates per week minute; None when the side is unusable."""
    source: Mapping[str, Any] = tariff
    if side == "sell":
        sell = tariff.get("sell_tariff")
        if not isinstance(sell, Mapping):
            return None
        source = sell if "seasons" in sell else {**sell, "seasons": tariff.get("seasons")}
    problems: list[str] = []
    seasons = side_seasons(source, side, problems)
    charges = source.get("energy_charges")
    if not seasons or not isinstance(charges, Mapping):
        return None
    days: dict[int, Rates] = {}
    for season in seasons:
        grid = _grid(charges, season)
        for day in season.days:
            days.setdefault(day, grid)
    return days


def differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], tolerance: float = 1e-6
) -> list[str]:
    """What differs between two ``tariff_content_v2`` objects (empty: the same tariff)."""
    found = []
    for side in ("buy", "sell"):
        ours, theirs = _by_day(expected, side), _by_day(actual, side)
        if ours is None or theirs is None:
            if ours != theirs:
                found.append(
                    f"{side}: {'missing' if theirs is None else 'unexpected'} in the read-back"
                )
            continue
        compared: set[tuple[int, int]] = set()
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

"""Reading ``tariff_content_v2``: seasons expanded to the minutes of the week and the days of the
year, the rate of a label, and :class:`TariffLookup` (the buy and sell price at a local time).

Periods: weekdays Monday = 0 … Sunday = 6, from ``fromDayOfWeek`` to ``toDayOfWeek`` inclusive
(wrapping past Sunday); the clock window ``[from, to)`` runs into the next day when ``to <= from``
(so an all-zero window is the whole day); ``toHour: 24`` means midnight. Missing fields read as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

WEEK_MINUTES = 7 * 1440
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PERIOD_FIELDS = ("fromDayOfWeek", "toDayOfWeek", "fromHour", "fromMinute", "toHour", "toMinute")
SEASON_FIELDS = ("fromDay", "toDay", "fromMonth", "toMonth")
LEAP_YEAR = 2024


def week_time(minute: int) -> str:
    day, rest = divmod(minute % WEEK_MINUTES, 1440)
    return f"{DAY_NAMES[day]} {rest // 60:02d}:{rest % 60:02d}"


def _int_field(period: dict[str, Any], name: str, problems: list[str], where: str) -> int:
    if name not in period:
        problems.append(f"{where}: {name} is omitted (read as 0)")
        return 0
    value = period[name]
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{where}: {name} is not an integer")
        return 0
    return value


@dataclass
class SeasonGrid:
    """A season expanded to one label per minute of the week (None = not covered)."""

    labels: list[str | None]
    problems: list[str] = field(default_factory=list)


def expand_season(name: str, season: dict[str, Any]) -> SeasonGrid:
    """Expand a season's periods to 7 × 1440 minutes, noting gaps and overlaps."""
    problems: list[str] = []
    counts = [0] * WEEK_MINUTES
    labels: list[str | None] = [None] * WEEK_MINUTES
    tou_periods = season.get("tou_periods")
    if not isinstance(tou_periods, dict):
        return SeasonGrid(labels, [f"season {name}: tou_periods is missing"])
    for label, entry in tou_periods.items():
        periods = entry.get("periods") if isinstance(entry, dict) else None
        if not isinstance(periods, list) or not periods:
            problems.append(f"season {name}: label {label} has no periods")
            continue
        for n, period in enumerate(periods):
            where = f"season {name}: {label} period {n}"
            if not isinstance(period, dict):
                problems.append(f"{where}: not an object")
                continue
            values = {f: _int_field(period, f, problems, where) for f in PERIOD_FIELDS}
            if not (0 <= values["fromDayOfWeek"] <= 6 and 0 <= values["toDayOfWeek"] <= 6):
                problems.append(f"{where}: day of week outside 0-6")
                continue
            if not (0 <= values["fromHour"] <= 23 and 0 <= values["toHour"] <= 24):
                problems.append(f"{where}: hour out of range")
                continue
            if not (0 <= values["fromMinute"] <= 59 and 0 <= values["toMinute"] <= 59):
                problems.append(f"{where}: minute out of range")
                continue
            start = values["fromHour"] * 60 + values["fromMinute"]
            end = values["toHour"] * 60 + values["toMinute"]
            if end > 1440:
                problems.append(f"{where}: ends after 24:00")
                continue
            if end <= start:
                end += 1440
            day = values["fromDayOfWeek"]
            while True:
                for minute in range(day * 1440 + start, day * 1440 + end):
                    slot = minute % WEEK_MINUTES
                    counts[slot] += 1
                    if labels[slot] is None:
                        labels[slot] = str(label)
                if day == values["toDayOfWeek"]:
                    break
                day = (day + 1) % 7
    overlaps = [m for m, c in enumerate(counts) if c > 1]
    gaps = [m for m, c in enumerate(counts) if c == 0]
    if overlaps:
        problems.append(
            f"season {name}: periods overlap for {len(overlaps)} minutes "
            f"(first at {week_time(overlaps[0])})"
        )
    if gaps:
        problems.append(
            f"season {name}: periods leave {len(gaps)} minutes of the week uncovered "
            f"(first at {week_time(gaps[0])})"
        )
    return SeasonGrid(labels, problems)


def is_placeholder(season: Any) -> bool:
    """A season with no dates and no periods (the empty ``Winter`` of a year-round plan)."""
    if not isinstance(season, dict):
        return False
    no_dates = all(season.get(f, 0) in (0, None) for f in SEASON_FIELDS)
    return no_dates and not season.get("tou_periods")


def season_days(name: str, season: dict[str, Any], problems: list[str]) -> set[int]:
    """Days of a leap year (ordinals) a season covers; dates are inclusive and may wrap."""
    try:
        first = date(LEAP_YEAR, int(season.get("fromMonth", 0)), int(season.get("fromDay", 0)))
        last = date(LEAP_YEAR, int(season.get("toMonth", 0)), int(season.get("toDay", 0)))
    except (TypeError, ValueError):
        problems.append(f"season {name}: invalid fromMonth/fromDay/toMonth/toDay")
        return set()
    days: set[int] = set()
    day = first
    while True:
        days.add(day.toordinal())
        if day == last:
            return days
        day += timedelta(days=1)
        if day.year != LEAP_YEAR:
            day = date(LEAP_YEAR, 1, 1)


def active_seasons(seasons: Any) -> dict[str, dict[str, Any]]:
    """The seasons that are not empty placeholders."""
    if not isinstance(seasons, dict):
        return {}
    return {str(k): v for k, v in seasons.items() if isinstance(v, dict) and not is_placeholder(v)}


def label_rate(charges: Any, season: str, label: str | None) -> float | None:
    if label is None or not isinstance(charges, dict):
        return None
    for block_name in (season, "ALL"):
        block = charges.get(block_name)
        rates = block.get("rates") if isinstance(block, dict) else None
        if not isinstance(rates, dict):
            continue
        for key in (label, "ALL"):
            value = rates.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


def sell_side_seasons(tariff: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sell = tariff.get("sell_tariff")
    if isinstance(sell, dict) and isinstance(sell.get("seasons"), dict):
        return active_seasons(sell["seasons"])
    return active_seasons(tariff.get("seasons"))


_SeasonRates = tuple[set[tuple[int, int]], list[float | None], list[float | None], list[float]]
"""A season's (month, day) days and, per minute of the week, its buy, sell and demand rates."""


class TariffLookup:
    """Buy and sell price (and demand charge) per local time for a stored tariff (for the battery
    simulation)."""

    def __init__(self, tariff: Any) -> None:
        self._seasons: list[_SeasonRates] = []
        self._extremes: tuple[float, float, float, float] | None = None
        self._dearest: dict[tuple[date, int], float | None] = {}
        if not isinstance(tariff, dict):
            return
        sell = tariff.get("sell_tariff") if isinstance(tariff.get("sell_tariff"), dict) else {}
        sell_seasons = sell_side_seasons(tariff)
        for name, season in active_seasons(tariff.get("seasons")).items():
            days = {(d.month, d.day) for d in map(date.fromordinal, season_days(name, season, []))}
            labels = expand_season(name, season).labels
            sell_labels = (
                expand_season(name, sell_seasons[name]).labels if name in sell_seasons else labels
            )
            buy = [label_rate(tariff.get("energy_charges"), name, lb) for lb in labels]
            sell_prices = [
                label_rate(sell.get("energy_charges") if sell else None, name, lb)
                for lb in sell_labels
            ]
            demand = [label_rate(tariff.get("demand_charges"), name, lb) or 0.0 for lb in labels]
            self._seasons.append((days, buy, sell_prices, demand))
        buys = [b for _, buy, _, _ in self._seasons for b in buy if b is not None]
        sells = [s for _, _, sell, _ in self._seasons for s in sell if s is not None]
        self._extremes = (
            (min(buys), max(buys), min(sells, default=0.0), max(sells, default=0.0))
            if buys
            else None
        )

    def _at(self, local: datetime) -> tuple[float | None, float | None, float]:
        key = (local.month, local.day)
        minute = local.weekday() * 1440 + local.hour * 60 + local.minute
        for days, buy, sell, demand in self._seasons:
            if key in days:
                return buy[minute], sell[minute], demand[minute]
        return None, None, 0.0

    def prices(self, local: datetime) -> tuple[float | None, float | None]:
        """``(buy, sell)`` in currency per kWh at a local time (None where unpriced)."""
        buy, sell, _ = self._at(local)
        return buy, sell

    def demand(self, local: datetime) -> float:
        """The demand charge (per kW) at a local time: 0 outside a demand window."""
        return self._at(local)[2]

    def dearest_after(self, local: datetime) -> float | None:
        """The highest buy price of the 47 half-hours after the one holding ``local`` (the
        rest of the next 24 hours); None when none of them is priced."""
        slot = (local.hour * 60 + local.minute) // 30
        key = (local.date(), slot)
        if key not in self._dearest:
            if len(self._dearest) > 10_000:
                self._dearest.clear()
            start = local.replace(minute=slot % 2 * 30, second=0, microsecond=0)
            later = (self._at(start + timedelta(minutes=30 * k))[0] for k in range(1, 48))
            self._dearest[key] = max((b for b in later if b is not None), default=None)
        return self._dearest[key]

    def extremes(self) -> tuple[float, float, float, float] | None:
        """``(min buy, max buy, min sell, max sell)`` over the week, if priced."""
        return self._extremes

"""Tesla's rules for ``tariff_content_v2``: validation, the roundings Tesla applies, and lookups.

Validation rules (Tesla's list): at least one season; each season's periods cover every minute of
the week exactly once; seasons cover every day of the year exactly once; every label has a price
and every price a label; no negative prices (rounded to zero); sell never above buy (buy raised
to sell). Tesla answers 200 to violations and applies the roundings; the sandbox does the same
and reports what it found.

Periods: weekdays Monday = 0 … Sunday = 6, from ``fromDayOfWeek`` to ``toDayOfWeek`` inclusive
(wrapping past Sunday); the clock window ``[from, to)`` runs into the next day when ``to <= from``
(so an all-zero window is the whole day); ``toHour: 24`` means midnight. Missing fields read as 0.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

WEEK_MINUTES = 7 * 1440
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PERIOD_FIELDS = ("fromDayOfWeek", "toDayOfWeek", "fromHour", "fromMinute", "toHour", "toMinute")
SEASON_FIELDS = ("fromDay", "toDay", "fromMonth", "toMonth")
LEAP_YEAR = 2024
STRATEGIES = ("economics", "balanced")


def _where(minute: int) -> str:
    day, rest = divmod(minute % WEEK_MINUTES, 1440)
    return f"{DAY_NAMES[day]} {rest // 60:02d}:{rest % 60:02d}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
            f"(first at {_where(overlaps[0])})"
        )
    if gaps:
        problems.append(
            f"season {name}: periods leave {len(gaps)} minutes of the week uncovered "
            f"(first at {_where(gaps[0])})"
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


def _rate(charges: Any, season: str, label: str | None) -> float | None:
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


def _check_rates(part: str, charges: Any, seasons: dict[str, dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if not isinstance(charges, dict):
        return [f"{part}: energy_charges is missing"]
    for name, block in charges.items():
        rates = block.get("rates", {}) if isinstance(block, dict) else None
        if not isinstance(rates, dict):
            problems.append(f"{part}: energy_charges.{name}.rates is not an object")
            continue
        for label, value in rates.items():
            if not _is_number(value):
                problems.append(f"{part}: rate {name}.{label} is not a number")
            elif value < 0:
                problems.append(
                    f"{part}: negative price {name}.{label} = {value} (Tesla rounds it to 0)"
                )
        if name != "ALL" and name not in seasons and rates:
            problems.append(f"{part}: energy_charges.{name} prices a season that does not exist")
    for name, season in seasons.items():
        block = charges.get(name)
        rates = block.get("rates", {}) if isinstance(block, dict) else {}
        rates = rates if isinstance(rates, dict) else {}
        labels = set(season.get("tou_periods") or {})
        if "ALL" not in rates:
            for label in sorted(labels - set(rates)):
                problems.append(f"{part}: season {name} label {label} has no price")
        for label in sorted(set(rates) - labels - {"ALL"}):
            problems.append(f"{part}: season {name} price {label} has no periods")
    return problems


def _year_coverage(seasons: dict[str, dict[str, Any]], problems: list[str], part: str) -> None:
    if not seasons:
        problems.append(f"{part}: no seasons")
        return
    counts: dict[int, int] = {}
    for name, season in seasons.items():
        for day in season_days(name, season, problems):
            counts[day] = counts.get(day, 0) + 1
    year = range(date(LEAP_YEAR, 1, 1).toordinal(), date(LEAP_YEAR, 12, 31).toordinal() + 1)
    missing = [d for d in year if counts.get(d, 0) == 0]
    twice = [d for d in year if counts.get(d, 0) > 1]
    if missing:
        problems.append(
            f"{part}: seasons leave {len(missing)} days of the year uncovered "
            f"(first {date.fromordinal(missing[0]).strftime('%m-%d')})"
        )
    if twice:
        problems.append(
            f"{part}: seasons overlap on {len(twice)} days "
            f"(first {date.fromordinal(twice[0]).strftime('%m-%d')})"
        )


def _sell_seasons(tariff: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sell = tariff.get("sell_tariff")
    if isinstance(sell, dict) and isinstance(sell.get("seasons"), dict):
        return active_seasons(sell["seasons"])
    return active_seasons(tariff.get("seasons"))


def validate(tariff: Any) -> list[str]:
    """Every rule the tariff breaks (empty when Tesla would take it as it is)."""
    if not isinstance(tariff, dict):
        return ["tariff_content_v2 is not an object"]
    problems: list[str] = []
    seasons = active_seasons(tariff.get("seasons"))
    _year_coverage(seasons, problems, "buy")
    grids = {}
    for name, season in seasons.items():
        grid = expand_season(name, season)
        grids[name] = grid
        problems.extend(grid.problems)
    problems.extend(_check_rates("buy", tariff.get("energy_charges"), seasons))
    if "demand_charges" not in tariff:
        problems.append("demand_charges is missing (the Tesla app misbehaves without it)")
    sell = tariff.get("sell_tariff")
    if sell is None:
        return problems
    if not isinstance(sell, dict):
        return [*problems, "sell_tariff is not an object"]
    sell_seasons = _sell_seasons(tariff)
    sell_grids = grids
    if isinstance(sell.get("seasons"), dict):
        _year_coverage(sell_seasons, problems, "sell")
        sell_grids = {}
        for name, season in sell_seasons.items():
            grid = expand_season(name, season)
            sell_grids[name] = grid
            problems.extend(f"sell: {p}" for p in grid.problems)
    problems.extend(_check_rates("sell", sell.get("energy_charges"), sell_seasons))
    problems.extend(_sell_above_buy(tariff, grids, sell_grids))
    return problems


def _sell_above_buy(
    tariff: dict[str, Any], grids: dict[str, SeasonGrid], sell_grids: dict[str, SeasonGrid]
) -> list[str]:
    buy_charges = tariff.get("energy_charges")
    sell_charges = tariff.get("sell_tariff", {}).get("energy_charges")
    problems: list[str] = []
    for name, grid in grids.items():
        sell_grid = sell_grids.get(name)
        if sell_grid is None:
            continue
        above = []
        for minute in range(WEEK_MINUTES):
            buy = _rate(buy_charges, name, grid.labels[minute])
            sell = _rate(sell_charges, name, sell_grid.labels[minute])
            if buy is not None and sell is not None and sell > max(buy, 0.0) + 1e-9:
                above.append((minute, buy, sell))
        if above:
            minute, buy, sell = above[0]
            problems.append(
                f"season {name}: sell price above buy price for {len(above)} minutes "
                f"(first at {_where(minute)}: sell {sell} > buy {buy}; Tesla raises buy to sell)"
            )
    return problems


def normalise(tariff: dict[str, Any]) -> dict[str, Any]:
    """The tariff as Tesla keeps it: negative prices → 0, buy raised to sell where lower."""
    result = copy.deepcopy(tariff)
    parts = [result, result.get("sell_tariff")]
    for part in parts:
        if not isinstance(part, dict):
            continue
        for tree in ("energy_charges", "demand_charges"):
            charges = part.get(tree)
            if not isinstance(charges, dict):
                continue
            for block in charges.values():
                rates = block.get("rates") if isinstance(block, dict) else None
                if isinstance(rates, dict):
                    for label, value in rates.items():
                        if _is_number(value) and value < 0:
                            rates[label] = 0
    sell = result.get("sell_tariff")
    if not isinstance(sell, dict):
        return result
    seasons = active_seasons(result.get("seasons"))
    sell_seasons = _sell_seasons(result)
    buy_charges = result.get("energy_charges")
    for name, season in seasons.items():
        if name not in sell_seasons:
            continue
        grid = expand_season(name, season).labels
        sell_grid = expand_season(name, sell_seasons[name]).labels
        block = buy_charges.get(name) if isinstance(buy_charges, dict) else None
        rates = block.get("rates") if isinstance(block, dict) else None
        if not isinstance(rates, dict):
            continue
        for minute in range(WEEK_MINUTES):
            label = grid[minute]
            sell_rate = _rate(sell.get("energy_charges"), name, sell_grid[minute])
            if label in rates and sell_rate is not None and _is_number(rates[label]):
                rates[label] = max(rates[label], sell_rate)
    return result


@dataclass(frozen=True)
class TouPost:
    """What a ``time_of_use_settings`` body asks for."""

    action: Literal["store", "strategy", "wipe", "reject"]
    tariff: dict[str, Any] | None = None
    strategy: str | None = None
    problems: tuple[str, ...] = ()


def interpret_tou_post(body: Any) -> TouPost:
    """Classify a ``time_of_use_settings`` body the way Tesla treats it."""
    if not isinstance(body, dict) or not isinstance(body.get("tou_settings"), dict):
        return TouPost("reject", problems=('body must be {"tou_settings": {...}}',))
    settings: dict[str, Any] = body["tou_settings"]
    strategy = settings.get("optimization_strategy")
    problems: list[str] = []
    if strategy is not None and strategy not in STRATEGIES:
        problems.append(f"unknown optimization_strategy {strategy!r}")
    if not settings:
        return TouPost("wipe", problems=("empty tou_settings: the site's rate plan was wiped",))
    if "tariff_content_v2" not in settings:
        if "tariff_content" in settings:
            problems.append("legacy tariff_content (v1) is not shown properly by the app")
        return TouPost("strategy", strategy=strategy, problems=tuple(problems))
    content = settings["tariff_content_v2"]
    if not isinstance(content, dict) or not content:
        return TouPost(
            "wipe",
            strategy=strategy,
            problems=(*problems, "empty or malformed tariff_content_v2: the rate plan was wiped"),
        )
    if "tariff_content_v2" in content:
        return TouPost(
            "wipe",
            strategy=strategy,
            problems=(*problems, "double-wrapped tariff_content_v2: the rate plan was wiped"),
        )
    problems.extend(validate(content))
    return TouPost("store", content, strategy, tuple(problems))


class TariffLookup:
    """Buy and sell price per local time for a stored tariff (for the battery simulation)."""

    def __init__(self, tariff: Any) -> None:
        self._seasons: list[tuple[set[tuple[int, int]], list[float | None], list[float | None]]]
        self._seasons = []
        self._extremes: tuple[float, float, float, float] | None = None
        if not isinstance(tariff, dict):
            return
        sell = tariff.get("sell_tariff") if isinstance(tariff.get("sell_tariff"), dict) else {}
        sell_seasons = _sell_seasons(tariff)
        for name, season in active_seasons(tariff.get("seasons")).items():
            days = {(d.month, d.day) for d in map(date.fromordinal, season_days(name, season, []))}
            labels = expand_season(name, season).labels
            sell_labels = (
                expand_season(name, sell_seasons[name]).labels if name in sell_seasons else labels
            )
            buy = [_rate(tariff.get("energy_charges"), name, lb) for lb in labels]
            sell_prices = [
                _rate(sell.get("energy_charges") if sell else None, name, lb) for lb in sell_labels
            ]
            self._seasons.append((days, buy, sell_prices))
        buys = [b for _, buy, _ in self._seasons for b in buy if b is not None]
        sells = [s for _, _, sell in self._seasons for s in sell if s is not None]
        self._extremes = (
            (min(buys), max(buys), min(sells, default=0.0), max(sells, default=0.0))
            if buys
            else None
        )

    def prices(self, local: datetime) -> tuple[float | None, float | None]:
        """``(buy, sell)`` in currency per kWh at a local time (None where unpriced)."""
        key = (local.month, local.day)
        minute = local.weekday() * 1440 + local.hour * 60 + local.minute
        for days, buy, sell in self._seasons:
            if key in days:
                return buy[minute], sell[minute]
        return None, None

    def extremes(self) -> tuple[float, float, float, float] | None:
        """``(min buy, max buy, min sell, max sell)`` over the week, if priced."""
        return self._extremes

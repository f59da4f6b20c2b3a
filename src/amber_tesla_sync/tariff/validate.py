"""Rule 10: validate a tariff before every push (and a tariff read back from Tesla).

Tesla answers 200 to most invalid tariffs and then misbehaves, so everything is checked here:
each season's periods tile the 7 × 1440 minutes of the week exactly once; every label has a rate
and every rate a label, in buy and sell (and every demand rate a label); seasons cover every day
of the year once; every rate is finite and ≥ 0; sell ≤ buy at every minute unless allowed.
Read-back quirks are accepted: missing period fields mean 0, ``toHour: 24`` is midnight, empty
seasons (``"Winter": {}``) are unused.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
STRATEGIES = ("economics", "balanced")
_LEAP_YEAR = 2024
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Season:
    """An active season: the days of the year it covers and the label of every week minute."""

    name: str
    days: frozenset[int]  # ordinal days of a leap year, 1..366
    labels: tuple[str | None, ...]  # MINUTES_PER_WEEK entries, Monday 00:00 first


def validate_request_body(body: Any, *, allow_sell_above_buy: bool = False) -> list[str]:
    """Problems with a whole ``time_of_use_settings`` body; an empty list means valid."""
    if not isinstance(body, Mapping) or set(body) != {"tou_settings"}:
        return ['the body must be an object with exactly one key, "tou_settings"']
    settings = body["tou_settings"]
    if not isinstance(settings, Mapping) or not settings:
        return ['"tou_settings" must be a non-empty object (an empty one wipes the rate plan)']
    problems = []
    unexpected = set(settings) - {"optimization_strategy", "tariff_content_v2"}
    if unexpected:
        problems.append(f'unexpected keys in "tou_settings": {sorted(unexpected)}')
    if settings.get("optimization_strategy") not in STRATEGIES:
        problems.append(f'"optimization_strategy" must be one of {list(STRATEGIES)}')
    tariff = settings.get("tariff_content_v2")
    if not isinstance(tariff, Mapping) or not tariff:
        return [*problems, '"tariff_content_v2" must be a non-empty object']
    if "tariff_content_v2" in tariff:
        problems.append('"tariff_content_v2" is wrapped twice (that wipes the rate plan)')
    return problems + validate_tariff(tariff, allow_sell_above_buy=allow_sell_above_buy)


def validate_tariff(tariff: Any, *, allow_sell_above_buy: bool = False) -> list[str]:
    """Problems with a ``tariff_content_v2`` object; an empty list means valid."""
    if not isinstance(tariff, Mapping):
        return ["the tariff must be an object"]
    problems: list[str] = []
    buy_seasons = side_seasons(tariff, "buy", problems)
    sell_tariff = tariff.get("sell_tariff")
    sell_seasons: list[Season] = []
    if sell_tariff is not None:
        if not isinstance(sell_tariff, Mapping):
            problems.append('"sell_tariff" must be an object')
        else:
            shaped = (
                sell_tariff
                if "seasons" in sell_tariff
                else {**sell_tariff, "seasons": tariff.get("seasons")}
            )
            sell_seasons = side_seasons(shaped, "sell", problems)
    if (
        not problems
        and isinstance(sell_tariff, Mapping)
        and sell_seasons
        and not allow_sell_above_buy
    ):
        problems.extend(_sell_above_buy(tariff, buy_seasons, sell_tariff, sell_seasons))
    return problems


def side_seasons(tariff: Mapping[str, Any], side: str, problems: list[str]) -> list[Season]:
    """Check one side (buy or sell): seasons, periods, labels ↔ rates, rate values."""
    seasons_raw = tariff.get("seasons")
    charges = tariff.get("energy_charges")
    if not isinstance(seasons_raw, Mapping) or not seasons_raw:
        problems.append(f"{side}: no seasons")
        return []
    if not isinstance(charges, Mapping):
        problems.append(f'{side}: no "energy_charges"')
        return []
    _check_rate_values(charges, f"{side} energy_charges", problems)
    demand = tariff.get("demand_charges")
    if demand is not None:
        _check_rate_values(demand, f"{side} demand_charges", problems)
    seasons = []
    for name, raw in seasons_raw.items():
        season = _season(str(name), raw, f"{side} season {name}", problems)
        if season is None:
            continue
        seasons.append(season)
        labels = {label for label in season.labels if label is not None}
        rates = _rates(charges, str(name))
        missing = sorted(labels - set(rates))
        orphan = sorted(set(rates) - labels - {"ALL"})
        if missing:
            problems.append(f"{side} season {name}: labels without a rate: {_few(missing)}")
        if orphan:
            problems.append(f"{side} season {name}: rates without a period: {_few(orphan)}")
        if isinstance(demand, Mapping):
            stray = sorted(set(_rates(demand, str(name))) - labels - {"ALL"})
            if stray:
                problems.append(
                    f"{side} season {name}: demand rates without a period: {_few(stray)}"
                )
    if not seasons:
        problems.append(f"{side}: no season has periods")
        return []
    _check_year(seasons, side, problems)
    return seasons


def _season(name: str, raw: Any, where: str, problems: list[str]) -> Season | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be an object")
        return None
    periods = raw.get("tou_periods") or {}
    dates = [raw.get(key, 0) for key in ("fromMonth", "fromDay", "toMonth", "toDay")]
    if not periods and not any(dates):
        return None  # an unused season such as "Winter": {}
    if not isinstance(periods, Mapping) or not periods:
        problems.append(f"{where}: has dates but no periods")
        return None
    days = _season_days(dates, where, problems)
    grid: list[str | None] = [None] * MINUTES_PER_WEEK
    overlaps = 0
    for label, entry in periods.items():
        plist = entry.get("periods") if isinstance(entry, Mapping) else None
        if not isinstance(plist, list) or not plist:
            problems.append(f"{where}: label {label} has no periods")
            continue
        for period in plist:
            for start, end in _period_spans(period, f"{where} label {label}", problems):
                overlaps += end - start - grid[start:end].count(None)
                grid[start:end] = [str(label)] * (end - start)
    if overlaps:
        problems.append(f"{where}: periods overlap for {overlaps} minutes of the week")
    uncovered = grid.count(None)
    if uncovered:
        problems.append(
            f"{where}: {uncovered} minutes of the week are not covered "
            f"(first: {minute_name(grid.index(None))})"
        )
    return Season(name=name, days=frozenset(days), labels=tuple(grid))


def _season_days(dates: list[Any], where: str, problems: list[str]) -> set[int]:
    if not all(_is_int(value) for value in dates):
        problems.append(f"{where}: season dates must be whole numbers")
        return set()
    from_month, from_day, to_month, to_day = dates
    try:
        first = dt.date(_LEAP_YEAR, from_month, from_day).timetuple().tm_yday
        last = dt.date(_LEAP_YEAR, to_month, to_day).timetuple().tm_yday
    except ValueError:
        problems.append(f"{where}: invalid season dates {dates}")
        return set()
    if first <= last:
        return set(range(first, last + 1))
    return set(range(first, 367)) | set(range(1, last + 1))


def _check_year(seasons: list[Season], side: str, problems: list[str]) -> None:
    counts = dict.fromkeys(range(1, 367), 0)
    for season in seasons:
        for day in season.days:
            counts[day] += 1
    gaps = [day for day, count in counts.items() if count == 0]
    doubles = [day for day, count in counts.items() if count > 1]
    if gaps:
        problems.append(f"{side}: {len(gaps)} days of the year are in no season")
    if doubles:
        problems.append(f"{side}: {len(doubles)} days of the year are in more than one season")


def _period_spans(period: Any, where: str, problems: list[str]) -> list[tuple[int, int]]:
    """The minutes of the week ``period`` covers, as ``(start, end)`` spans (end excluded)."""
    if not isinstance(period, Mapping):
        problems.append(f"{where}: a period must be an object")
        return []
    fields = {
        key: period.get(key, 0)
        for key in ("fromDayOfWeek", "toDayOfWeek", "fromHour", "fromMinute", "toHour", "toMinute")
    }
    limits = {"fromDayOfWeek": 6, "toDayOfWeek": 6, "fromHour": 23, "toHour": 24}
    for key, value in fields.items():
        if not _is_int(value) or not 0 <= value <= limits.get(key, 59):
            problems.append(f"{where}: {key} = {value!r} is out of range")
            return []
    if fields["toHour"] == 24 and fields["toMinute"] != 0:
        problems.append(f"{where}: toHour 24 needs toMinute 0")
        return []
    first_day, last_day = fields["fromDayOfWeek"], fields["toDayOfWeek"]
    days = [day % 7 for day in range(first_day, last_day + (7 if last_day < first_day else 0) + 1)]
    start = fields["fromHour"] * 60 + fields["fromMinute"]
    end = fields["toHour"] * 60 + fields["toMinute"]
    spans: list[tuple[int, int]] = []
    for day in days:
        base = day * MINUTES_PER_DAY
        if end > start:
            spans.append((base + start, base + end))
        else:  # runs past midnight (an all-zero window is the whole day)
            spans.append((base + start, base + MINUTES_PER_DAY))
            following = (day + 1) % 7 * MINUTES_PER_DAY
            spans.append((following, following + end))
    return spans


def _check_rate_values(charges: Any, where: str, problems: list[str]) -> None:
    if not isinstance(charges, Mapping):
        problems.append(f"{where}: must be an object")
        return
    for block_name, block in charges.items():
        if block in ({}, None):
            continue
        rates = block.get("rates") if isinstance(block, Mapping) else None
        if not isinstance(rates, Mapping):
            problems.append(f"{where}.{block_name}: no rates")
            continue
        for label, rate in rates.items():
            if not _is_number(rate) or not math.isfinite(rate) or rate < 0:
                problems.append(f"{where}.{block_name}: rate {label} = {rate!r} is not ≥ 0")


def _rates(charges: Mapping[str, Any], season: str) -> Mapping[str, Any]:
    block = charges.get(season)
    rates = block.get("rates") if isinstance(block, Mapping) else None
    return rates if isinstance(rates, Mapping) else {}


def rate_for(charges: Mapping[str, Any], season: str, label: str) -> float | None:
    """Tesla's lookup: season block then ``ALL`` block; within a block the label then ``ALL``."""
    for block in (season, "ALL"):
        rates = _rates(charges, block)
        for key in (label, "ALL"):
            value = rates.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


def _sell_above_buy(
    tariff: Mapping[str, Any],
    buy_seasons: list[Season],
    sell_tariff: Mapping[str, Any],
    sell_seasons: list[Season],
) -> list[str]:
    buy_charges = tariff.get("energy_charges", {})
    sell_charges = sell_tariff.get("energy_charges", {})
    pairs = {(buy, sell) for buy in buy_seasons for sell in sell_seasons if buy.days & sell.days}
    problems = []
    for buy, sell in sorted(pairs, key=lambda pair: (pair[0].name, pair[1].name)):
        cache: dict[tuple[str | None, str | None], bool] = {}
        bad = 0
        first = -1
        for minute, key in enumerate(zip(buy.labels, sell.labels, strict=True)):
            if key not in cache:
                buy_rate = rate_for(buy_charges, buy.name, key[0] or "")
                sell_rate = rate_for(sell_charges, sell.name, key[1] or "")
                cache[key] = buy_rate is not None and sell_rate is not None and sell_rate > buy_rate
            if cache[key]:
                bad += 1
                first = minute if first < 0 else first
        if bad:
            problems.append(
                f"sell is above buy for {bad} minutes of the week "
                f"(first: {minute_name(first)}, season {buy.name})"
            )
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def minute_name(minute: int) -> str:
    day, rest = divmod(minute, MINUTES_PER_DAY)
    return f"{_DAYS[day]} {rest // 60:02d}:{rest % 60:02d}"


def _few(items: list[str]) -> str:
    return ", ".join(items[:6]) + (f" and {len(items) - 6} more" if len(items) > 6 else "")

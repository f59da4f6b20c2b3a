"""Tesla's rules for ``tariff_content_v2``: validation, the roundings Tesla applies, and what a
``time_of_use_settings`` body asks for.

Validation rules (Tesla's list): at least one season; each season's periods cover every minute of
the week exactly once; seasons cover every day of the year exactly once; every label has a price
and every price a label; no negative prices (rounded to zero); sell never above buy (buy raised
to sell). Tesla answers 200 to violations and applies the roundings; the sandbox does the same
and reports what it found.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from amber_tesla_sync.sandbox.tariff_lookup import (
    LEAP_YEAR,
    WEEK_MINUTES,
    SeasonGrid,
    active_seasons,
    expand_season,
    label_rate,
    season_days,
    sell_side_seasons,
    week_time,
)

STRATEGIES = ("economics", "balanced")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
    sell_seasons = sell_side_seasons(tariff)
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
            buy = label_rate(buy_charges, name, grid.labels[minute])
            sell = label_rate(sell_charges, name, sell_grid.labels[minute])
            if buy is not None and sell is not None and sell > max(buy, 0.0) + 1e-9:
                above.append((minute, buy, sell))
        if above:
            minute, buy, sell = above[0]
            problems.append(
                f"season {name}: sell price above buy price for {len(above)} minutes "
                f"(first at {week_time(minute)}: sell {sell} > buy {buy}; Tesla raises buy to sell)"
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
    sell_seasons = sell_side_seasons(result)
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
            sell_rate = label_rate(sell.get("energy_charges"), name, sell_grid[minute])
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

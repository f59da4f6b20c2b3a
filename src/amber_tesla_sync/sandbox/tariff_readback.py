"""How Tesla shows a stored tariff back in ``site_info`` (observed on a real site)."""

from __future__ import annotations

import copy
from typing import Any

from amber_tesla_sync.sandbox.tariff_lookup import PERIOD_FIELDS, SEASON_FIELDS, is_placeholder

TOP_LEVEL_ORDER = (
    "code", "name", "utility", "currency", "version", "daily_charges", "demand_charges",
    "energy_charges", "seasons", "sell_tariff",
)  # fmt: skip
SELL_READBACK_KEYS = ("name", "energy_charges", "seasons")


def _readback_period(period: Any) -> Any:
    if not isinstance(period, dict):
        return period
    values = dict(period)
    ends_at_midnight = values.get("toHour", 0) == 0 and values.get("toMinute", 0) == 0
    starts_at_midnight = values.get("fromHour", 0) == 0 and values.get("fromMinute", 0) == 0
    if ends_at_midnight and not starts_at_midnight:
        values["toHour"] = 24
    ordered = {k: values[k] for k in PERIOD_FIELDS if k in values and values[k] != 0}
    ordered.update({k: v for k, v in values.items() if k not in PERIOD_FIELDS})
    return ordered


def _readback_seasons(seasons: Any) -> Any:
    if not isinstance(seasons, dict):
        return seasons
    result: dict[str, Any] = {}
    for name, season in seasons.items():
        if is_placeholder(season):
            result[name] = {}
            continue
        if not isinstance(season, dict):
            result[name] = season
            continue
        out = {k: season[k] for k in SEASON_FIELDS if k in season and season[k] != 0}
        periods = season.get("tou_periods")
        if isinstance(periods, dict):
            out["tou_periods"] = {
                label: (
                    {"periods": [_readback_period(p) for p in entry["periods"]]}
                    if isinstance(entry, dict) and isinstance(entry.get("periods"), list)
                    else entry
                )
                for label, entry in periods.items()
            }
        out.update({k: v for k, v in season.items() if k not in (*SEASON_FIELDS, "tou_periods")})
        result[name] = out
    return result


def readback(tariff: Any) -> Any:
    """The stored tariff the way ``site_info`` shows it.

    Zero-valued period and season fields are omitted, a period ending at midnight reads
    ``toHour: 24``, an empty placeholder season reads ``{}``, zero ``daily_charges`` amounts are
    omitted, and ``sell_tariff`` keeps only ``name``, ``energy_charges`` and ``seasons``.
    """
    if not isinstance(tariff, dict):
        return tariff
    data = copy.deepcopy(tariff)
    if "seasons" in data:
        data["seasons"] = _readback_seasons(data["seasons"])
    charges = data.get("daily_charges")
    if isinstance(charges, list):
        data["daily_charges"] = [
            {k: v for k, v in c.items() if not (k == "amount" and v == 0)}
            if isinstance(c, dict)
            else c
            for c in charges
        ]
    sell = data.get("sell_tariff")
    if isinstance(sell, dict):
        kept = {k: sell[k] for k in SELL_READBACK_KEYS if k in sell}
        if "seasons" in kept:
            kept["seasons"] = _readback_seasons(kept["seasons"])
        data["sell_tariff"] = kept
    ordered = {k: data[k] for k in TOP_LEVEL_ORDER if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    return ordered

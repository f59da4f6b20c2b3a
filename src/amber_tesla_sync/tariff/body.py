"""Rule 9: the exact ``time_of_use_settings`` request body for 48 half-hour slots.

``demand_charges`` is a zero tree unless a demand window is given: then it has the same layout
as ``energy_charges`` (``$/kW`` per label of the season: the window's slots at the charge, the
others 0). The export side never carries a demand charge. Without a window the body is exactly
the one built from the energy rates alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TARIFF_CODE = "AMBER_TESLA_SYNC"
TARIFF_NAME = "Amber dynamic prices (amber-tesla-sync)"
UTILITY = "Amber Electric"
CURRENCY = "AUD"
SEASON = "Summer"
EMPTY_SEASON = "Winter"


def period_name(label: str) -> str:
    """``"07:30"`` → ``"PERIOD_07_30"``."""
    return "PERIOD_" + label.replace(":", "_")


def _period(label: str) -> dict[str, int]:
    hour, minute = (int(part) for part in label.split(":"))
    end = hour * 60 + minute + 30
    return {
        "fromDayOfWeek": 0,
        "toDayOfWeek": 6,
        "fromHour": hour,
        "fromMinute": minute,
        "toHour": end // 60 % 24,
        "toMinute": end % 60,
    }


def _zero_tree() -> dict[str, Any]:
    return {"ALL": {"rates": {"ALL": 0}}, SEASON: {}, EMPTY_SEASON: {}}


def _charges(rates: Mapping[str, float]) -> dict[str, Any]:
    return {"ALL": {"rates": {"ALL": 0}}, SEASON: {"rates": dict(rates)}, EMPTY_SEASON: {}}


def _seasons(labels: list[str]) -> dict[str, Any]:
    return {
        SEASON: {
            "fromMonth": 1,
            "fromDay": 1,
            "toMonth": 12,
            "toDay": 31,
            "tou_periods": {period_name(label): {"periods": [_period(label)]} for label in labels},
        },
        EMPTY_SEASON: {"fromMonth": 0, "fromDay": 0, "toMonth": 0, "toDay": 0, "tou_periods": {}},
    }


def build_tariff(
    rates: Mapping[str, tuple[float, float]], demand: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """``tariff_content_v2`` for ``{"HH:MM": (buy, sell)}`` ($/kWh), labels in time-of-day order,
    and ``demand``: ``{"HH:MM": $/kW}`` (none, or all 0: no demand charge)."""
    labels = sorted(rates)
    buy = {period_name(label): rates[label][0] for label in labels}
    sell = {period_name(label): rates[label][1] for label in labels}
    charged = demand is not None and any(value > 0 for value in demand.values())
    per_kw = {period_name(label): demand.get(label, 0.0) for label in labels} if demand else {}
    return {
        "version": 1,
        "code": TARIFF_CODE,
        "name": TARIFF_NAME,
        "utility": UTILITY,
        "currency": CURRENCY,
        "daily_charges": [{"name": "Charge", "amount": 0}],
        "demand_charges": _charges(per_kw) if charged else _zero_tree(),
        "energy_charges": _charges(buy),
        "seasons": _seasons(labels),
        "sell_tariff": {
            "name": TARIFF_NAME + " (export)",
            "utility": UTILITY,
            "daily_charges": [{"name": "Charge", "amount": 0}],
            "demand_charges": _zero_tree(),
            "energy_charges": _charges(sell),
            "seasons": _seasons(labels),
        },
    }


def build_request_body(
    rates: Mapping[str, tuple[float, float]], demand: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The whole POST body: ``{"tou_settings": {"optimization_strategy": …, …}}``."""
    return {
        "tou_settings": {
            "optimization_strategy": "economics",
            "tariff_content_v2": build_tariff(rates, demand),
        }
    }

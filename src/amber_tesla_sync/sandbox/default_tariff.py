"""The rate plan the sandbox's Powerwall starts with (as a retailer would have set it)."""

from __future__ import annotations

import copy
from typing import Any


def _period(fd: int, td: int, fh: int, fm: int, th: int, tm: int) -> dict[str, int]:
    return {
        "fromDayOfWeek": fd, "toDayOfWeek": td, "fromHour": fh,
        "fromMinute": fm, "toHour": th, "toMinute": tm,
    }  # fmt: skip


def default_utility_tariff() -> dict[str, Any]:
    """The rate plan the site starts with: a retailer's three-rate time-of-use plan."""
    periods = {
        "OFF_PEAK": {"periods": [_period(0, 6, 22, 0, 7, 0)]},
        "PARTIAL_PEAK": {"periods": [_period(0, 6, 7, 0, 15, 0), _period(0, 6, 21, 0, 22, 0)]},
        "ON_PEAK": {"periods": [_period(0, 6, 15, 0, 21, 0)]},
    }
    seasons = {
        "Summer": {
            "fromMonth": 1, "fromDay": 1, "toMonth": 12, "toDay": 31, "tou_periods": periods,
        },
        "Winter": {"fromMonth": 0, "fromDay": 0, "toMonth": 0, "toDay": 0, "tou_periods": {}},
    }  # fmt: skip
    zero = {"ALL": {"rates": {"ALL": 0}}, "Summer": {}, "Winter": {}}
    return {
        "version": 1,
        "code": "SANDBOX_ENERGY:TOU",
        "name": "Sandbox Energy Time of Use",
        "utility": "Sandbox Energy",
        "currency": "AUD",
        "daily_charges": [{"name": "Charge", "amount": 0}],
        "demand_charges": copy.deepcopy(zero),
        "energy_charges": {
            "ALL": {"rates": {"ALL": 0}},
            "Summer": {"rates": {"OFF_PEAK": 0.22, "PARTIAL_PEAK": 0.28, "ON_PEAK": 0.48}},
            "Winter": {},
        },
        "seasons": seasons,
        "sell_tariff": {
            "name": "Sandbox Energy Feed-in",
            "utility": "Sandbox Energy",
            "daily_charges": [{"name": "Charge", "amount": 0}],
            "demand_charges": copy.deepcopy(zero),
            "energy_charges": {
                "ALL": {"rates": {"ALL": 0}},
                "Summer": {"rates": {"OFF_PEAK": 0.05, "PARTIAL_PEAK": 0.05, "ON_PEAK": 0.05}},
                "Winter": {},
            },
            "seasons": copy.deepcopy(seasons),
        },
    }

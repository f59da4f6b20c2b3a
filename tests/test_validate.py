"""Rule 10: validation of our own bodies and of tariffs read back from Tesla."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.tariff import build_request_body, validate_request_body, validate_tariff

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]


def body(buy: float = 0.3, sell: float = 0.1) -> dict[str, Any]:
    return build_request_body(dict.fromkeys(LABELS, (buy, sell)))


def tariff_of(request: dict[str, Any]) -> dict[str, Any]:
    tariff: dict[str, Any] = request["tou_settings"]["tariff_content_v2"]
    return tariff


def test_our_body_is_valid_and_shaped_as_rule_9_says() -> None:
    request = body()
    assert validate_request_body(request) == []
    settings = request["tou_settings"]
    assert settings["optimization_strategy"] == "economics"
    tariff = settings["tariff_content_v2"]
    assert tariff["code"] == "AMBER_TESLA_SYNC"
    assert tariff["currency"] == "AUD"
    periods = tariff["seasons"]["Summer"]["tou_periods"]
    assert list(periods) == [f"PERIOD_{label.replace(':', '_')}" for label in LABELS]
    assert periods["PERIOD_23_30"]["periods"] == [
        {
            "fromDayOfWeek": 0,
            "toDayOfWeek": 6,
            "fromHour": 23,
            "fromMinute": 30,
            "toHour": 0,
            "toMinute": 0,
        }
    ]
    assert periods["PERIOD_07_00"]["periods"][0]["toHour"] == 7
    assert periods["PERIOD_07_00"]["periods"][0]["toMinute"] == 30
    season = tariff["seasons"]["Summer"]
    assert (season["fromMonth"], season["fromDay"], season["toMonth"], season["toDay"]) == (
        1,
        1,
        12,
        31,
    )
    assert tariff["seasons"]["Winter"]["tou_periods"] == {}
    assert tariff["demand_charges"]["ALL"] == {"rates": {"ALL": 0}}
    assert tariff["sell_tariff"]["seasons"] == tariff["seasons"]
    assert len(tariff["sell_tariff"]["energy_charges"]["Summer"]["rates"]) == 48


def test_a_tariff_read_back_from_tesla_validates() -> None:
    """Sparse fields (omitted zeros), ``toHour: 24`` and ``"Winter": {}`` are accepted."""
    sample = json.loads((FIXTURES / "tesla" / "tesla_fleet_api_tariff_v2_sample.json").read_text())
    tariff = sample["response"]["tariff_content_v2"]
    assert validate_tariff(tariff, allow_sell_above_buy=True) == []
    # that site really sells above buy from 17:00 to 18:30 (0.45 vs 0.42): 90 min × 7 days
    problems = validate_tariff(tariff)
    assert len(problems) == 1
    assert "630 minutes" in problems[0]


def _break(mutate: Any) -> list[str]:
    request = copy.deepcopy(body())
    mutate(request)
    return validate_request_body(request)


def test_a_missing_period_leaves_minutes_uncovered() -> None:
    def drop(request: dict[str, Any]) -> None:
        del tariff_of(request)["seasons"]["Summer"]["tou_periods"]["PERIOD_12_00"]

    problems = _break(drop)
    assert any("210 minutes of the week are not covered (first: Mon 12:00)" in p for p in problems)
    assert any("rates without a period: PERIOD_12_00" in p for p in problems)


def test_overlapping_periods() -> None:
    def widen(request: dict[str, Any]) -> None:
        tariff_of(request)["seasons"]["Summer"]["tou_periods"]["PERIOD_12_00"]["periods"][0][
            "toHour"
        ] = 13

    assert any("overlap for" in p for p in _break(widen))


def test_a_last_slot_ending_short_of_midnight_is_caught() -> None:
    def shorten(request: dict[str, Any]) -> None:
        period = tariff_of(request)["seasons"]["Summer"]["tou_periods"]["PERIOD_23_30"]["periods"][
            0
        ]
        period["toHour"], period["toMinute"] = 23, 59

    assert any(
        "7 minutes of the week are not covered (first: Mon 23:59)" in p for p in _break(shorten)
    )


def test_sparse_period_fields_read_as_zero() -> None:
    def sparse(request: dict[str, Any]) -> None:
        for side in (tariff_of(request), tariff_of(request)["sell_tariff"]):
            for entry in side["seasons"]["Summer"]["tou_periods"].values():
                period = entry["periods"][0]
                for key in [k for k, v in period.items() if v == 0]:
                    del period[key]

    assert _break(sparse) == []


def test_label_without_rate_and_rate_without_label() -> None:
    def drop_rate(request: dict[str, Any]) -> None:
        del tariff_of(request)["sell_tariff"]["energy_charges"]["Summer"]["rates"]["PERIOD_03_00"]

    assert any(
        "sell season Summer: labels without a rate: PERIOD_03_00" in p for p in _break(drop_rate)
    )

    def extra_rate(request: dict[str, Any]) -> None:
        tariff_of(request)["energy_charges"]["Summer"]["rates"]["ON_PEAK"] = 0.5

    assert any(
        "buy season Summer: rates without a period: ON_PEAK" in p for p in _break(extra_rate)
    )


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf, "0.3", True, None])
def test_rates_must_be_finite_non_negative_numbers(bad: object) -> None:
    def poison(request: dict[str, Any]) -> None:
        tariff_of(request)["energy_charges"]["Summer"]["rates"]["PERIOD_10_00"] = bad

    assert any("rate PERIOD_10_00" in p for p in _break(poison))


def test_sell_above_buy_unless_allowed() -> None:
    request = body(buy=0.2, sell=0.3)
    assert any("sell is above buy for 10080 minutes" in p for p in validate_request_body(request))
    assert validate_request_body(request, allow_sell_above_buy=True) == []


def test_seasons_must_cover_the_year_once() -> None:
    def short_year(request: dict[str, Any]) -> None:
        tariff_of(request)["seasons"]["Summer"]["toMonth"] = 6
        tariff_of(request)["sell_tariff"]["seasons"]["Summer"]["toMonth"] = 6

    assert any("days of the year are in no season" in p for p in _break(short_year))

    def two_seasons(request: dict[str, Any]) -> None:
        seasons = tariff_of(request)["seasons"]
        seasons["Winter"] = copy.deepcopy(seasons["Summer"])
        tariff_of(request)["energy_charges"]["Winter"] = copy.deepcopy(
            tariff_of(request)["energy_charges"]["Summer"]
        )

    assert any("in more than one season" in p for p in _break(two_seasons))


def test_wrappers_that_wipe_the_rate_plan_are_refused() -> None:
    assert validate_request_body({"tou_settings": {}}) != []
    assert validate_request_body({}) != []
    request = body()
    double = {
        "tou_settings": {
            "optimization_strategy": "economics",
            "tariff_content_v2": request["tou_settings"],
        }
    }
    assert any("wrapped twice" in p or "non-empty" in p for p in validate_request_body(double))


def test_periods_over_midnight_and_whole_day_windows() -> None:
    tariff = copy.deepcopy(tariff_of(body()))
    for side in (tariff, tariff["sell_tariff"]):
        side["seasons"]["Summer"]["tou_periods"] = {
            "NIGHT": {"periods": [{"toDayOfWeek": 6, "fromHour": 21, "toHour": 7}]},
            "DAY": {"periods": [{"toDayOfWeek": 6, "fromHour": 7, "toHour": 21}]},
        }
        side["energy_charges"]["Summer"]["rates"] = {"NIGHT": 0.1, "DAY": 0.2}
    tariff["sell_tariff"]["energy_charges"]["Summer"]["rates"] = {"NIGHT": 0.05, "DAY": 0.1}
    assert validate_tariff(tariff) == []
    for side in (tariff, tariff["sell_tariff"]):
        side["seasons"]["Summer"]["tou_periods"] = {"ALLDAY": {"periods": [{"toDayOfWeek": 6}]}}
        side["energy_charges"]["Summer"]["rates"] = {"ALLDAY": 0.1}
    assert validate_tariff(tariff) == []

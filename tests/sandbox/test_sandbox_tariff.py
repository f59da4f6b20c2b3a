"""Tariff storage, Tesla's validation rules and read-back quirks."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.sandbox.tariff_lookup import expand_season
from amber_tesla_sync.sandbox.tariff_readback import readback
from amber_tesla_sync.sandbox.tariff_rules import validate

from .helpers import bearer, slot_tariff


def _push(http: httpx.Client, sb: Sandbox, token: str, body: Any) -> httpx.Response:
    url = f"{sb.fleet_na_base_url}/api/1/energy_sites/{sb.energy_site_id}/time_of_use_settings"
    return http.post(url, headers=bearer(token), json=body)


def _site_info(http: httpx.Client, sb: Sandbox, token: str) -> dict[str, Any]:
    url = f"{sb.fleet_na_base_url}/api/1/energy_sites/{sb.energy_site_id}/site_info"
    body: dict[str, Any] = http.get(url, headers=bearer(token)).json()["response"]
    return body


def _wrap(tariff: Any) -> dict[str, Any]:
    return {"tou_settings": {"optimization_strategy": "economics", "tariff_content_v2": tariff}}


def test_valid_tariff_is_stored_without_problems(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    tariff = slot_tariff()
    response = _push(http, sandbox, user_token, _wrap(tariff))
    assert response.status_code == 200
    assert response.json() == {"response": {"code": 201, "message": "Updated"}}
    assert sandbox.validation_problems() == []
    assert sandbox.stored_tariff() == tariff
    posts = sandbox.tariff_posts()
    assert len(posts) == 1 and posts[0]["action"] == "store"


def test_read_back_quirks(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    _push(http, sandbox, user_token, _wrap(slot_tariff()))
    back = _site_info(http, sandbox, user_token)["tariff_content_v2"]
    periods = back["seasons"]["Summer"]["tou_periods"]
    assert periods["PERIOD_00_00"]["periods"] == [{"toDayOfWeek": 6, "toMinute": 30}]
    assert periods["PERIOD_00_30"]["periods"] == [{"toDayOfWeek": 6, "fromMinute": 30, "toHour": 1}]
    assert periods["PERIOD_23_30"]["periods"] == [
        {"toDayOfWeek": 6, "fromHour": 23, "fromMinute": 30, "toHour": 24}
    ]
    assert back["seasons"]["Winter"] == {}
    assert back["daily_charges"] == [{"name": "Charge"}]
    assert set(back["sell_tariff"]) == {"name", "energy_charges", "seasons"}
    assert list(back)[:4] == ["code", "name", "utility", "currency"]
    assert back["energy_charges"]["ALL"] == {"rates": {"ALL": 0}}
    assert back["energy_charges"]["Summer"]["rates"]["PERIOD_12_00"] == 0.44


def test_invalid_tariff_is_accepted_but_problems_are_recorded(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    # Sell above buy at 18:00 (slot 36); no export price at 10:00 (slot 20).
    tariff = slot_tariff(sell=lambda n: {36: 0.9, 20: 0.0}.get(n, 0.05))
    summer = tariff["seasons"]["Summer"]["tou_periods"]
    del summer["PERIOD_03_00"]  # a gap, and a rate without a period
    summer["PERIOD_05_00"]["periods"][0]["toMinute"] = 45  # overlaps 05:30-05:45
    tariff["energy_charges"]["Summer"]["rates"]["PERIOD_10_00"] = -0.05
    tariff["energy_charges"]["Summer"]["rates"]["EXTRA"] = 0.3
    tariff["seasons"]["Summer"]["toMonth"] = 11
    response = _push(http, sandbox, user_token, _wrap(tariff))
    assert response.status_code == 200
    assert response.json()["response"] == {"code": 201, "message": "Updated"}
    problems = " | ".join(sandbox.validation_problems())
    assert "uncovered (first at Mon 03:00)" in problems
    assert "overlap for 105 minutes (first at Mon 05:30)" in problems  # 15 min x 7 days
    assert "label EXTRA" not in problems and "price EXTRA has no periods" in problems
    assert "price PERIOD_03_00 has no periods" in problems
    assert "negative price Summer.PERIOD_10_00" in problems
    assert "sell price above buy price" in problems
    assert "days of the year uncovered" in problems
    stored = sandbox.stored_tariff()["energy_charges"]["Summer"]["rates"]
    assert stored["PERIOD_10_00"] == 0  # negatives rounded to zero
    assert stored["PERIOD_18_00"] == 0.9  # buy raised to sell


def test_omitted_period_fields_are_reported(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    tariff = slot_tariff()
    del tariff["seasons"]["Summer"]["tou_periods"]["PERIOD_12_00"]["periods"][0]["toHour"]
    _push(http, sandbox, user_token, _wrap(tariff))
    problems = sandbox.validation_problems()
    assert any("PERIOD_12_00 period 0: toHour is omitted" in p for p in problems)
    # 12:00 -> 00:30 runs past midnight into the next day and overlaps everything after it.
    assert any("overlap for 5040 minutes" in p for p in problems)  # 12 h x 7 days


@pytest.mark.parametrize(
    "body",
    [
        {"tou_settings": {}},
        {"tou_settings": {"tariff_content_v2": {"tariff_content_v2": slot_tariff()}}},
        {"tou_settings": {"tariff_content_v2": {}}},
    ],
    ids=["empty", "double-wrapped", "empty-content"],
)
def test_empty_or_double_wrapped_settings_wipe_the_plan(
    http: httpx.Client, sandbox: Sandbox, user_token: str, body: dict[str, Any]
) -> None:
    _push(http, sandbox, user_token, _wrap(slot_tariff()))
    response = _push(http, sandbox, user_token, body)
    assert response.status_code == 200
    assert sandbox.stored_tariff() == {}
    assert _site_info(http, sandbox, user_token)["tariff_content_v2"] == {}
    assert any("wiped" in p for p in sandbox.validation_problems())
    assert sandbox.tariff_posts()[-1]["action"] == "wipe"


def test_strategy_only_post_keeps_the_tariff(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    before = sandbox.stored_tariff()
    body = {"tou_settings": {"optimization_strategy": "balanced"}}
    assert _push(http, sandbox, user_token, body).status_code == 200
    assert sandbox.stored_tariff() == before
    assert sandbox.energy_site_settings()["optimization_strategy"] == "balanced"


def test_malformed_body_is_400(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    response = _push(http, sandbox, user_token, {"tariff_content_v2": slot_tariff()})
    assert response.status_code == 400
    assert response.json()["response"] is None
    assert sandbox.tariff_posts()[-1]["action"] == "reject"
    assert sandbox.stored_tariff()["code"] == "SANDBOX_ENERGY:TOU"


def test_refused_when_not_tou_capable(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.set_energy_site(tou_capable=False)
    response = _push(http, sandbox, user_token, _wrap(slot_tariff()))
    assert response.json()["response"]["result"] is False
    assert sandbox.stored_tariff()["code"] == "SANDBOX_ENERGY:TOU"


def test_foreign_tariff_and_delayed_application(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    foreign = slot_tariff(buy=lambda n: 0.3)
    foreign["code"] = "OTHER_APP:PLAN"
    sandbox.set_tariff(foreign)
    assert _site_info(http, sandbox, user_token)["tariff_content_v2"]["code"] == "OTHER_APP:PLAN"
    sandbox.set_switches(tariff_apply_delay=5)
    _push(http, sandbox, user_token, _wrap(slot_tariff()))
    assert _site_info(http, sandbox, user_token)["tariff_content_v2"]["code"] == "OTHER_APP:PLAN"
    sandbox.advance(5)
    assert (
        _site_info(http, sandbox, user_token)["tariff_content_v2"]["code"]
        == "AMBER_TESLA_SYNC:TEST"
    )


def test_rules_on_documented_examples() -> None:
    assert validate(slot_tariff()) == []
    # Tesla's minimal example: two labels, periods ending at midnight with toHour 0.
    tariff = slot_tariff()
    off = {"fromDayOfWeek": 0, "toDayOfWeek": 6, "fromHour": 0, "fromMinute": 0}
    tariff["seasons"]["Summer"]["tou_periods"] = {
        "OFF_PEAK": {
            "periods": [
                {**off, "toHour": 16, "toMinute": 0},
                {**off, "fromHour": 21, "toHour": 0, "toMinute": 0},
            ]
        },
        "ON_PEAK": {"periods": [{**off, "fromHour": 16, "toHour": 21, "toMinute": 0}]},
    }
    tariff["energy_charges"]["Summer"]["rates"] = {"OFF_PEAK": 0.22, "ON_PEAK": 0.48}
    tariff["sell_tariff"]["energy_charges"]["Summer"]["rates"] = {"OFF_PEAK": 0.05, "ON_PEAK": 0.12}
    tariff["sell_tariff"]["seasons"] = copy.deepcopy(tariff["seasons"])
    assert validate(tariff) == []
    grid = expand_season("Summer", tariff["seasons"]["Summer"]).labels
    assert grid[16 * 60] == "ON_PEAK" and grid[21 * 60] == "OFF_PEAK"
    assert grid[6 * 1440 + 23 * 60 + 59] == "OFF_PEAK"  # Sunday 23:59
    back = readback(tariff)
    assert back["seasons"]["Summer"]["tou_periods"]["OFF_PEAK"]["periods"][1] == {
        "toDayOfWeek": 6,
        "fromHour": 21,
        "toHour": 24,
    }


def test_weekday_ranges_wrap_and_windows_cross_midnight() -> None:
    season = {
        "tou_periods": {
            "NIGHT": {
                "periods": [
                    {"fromDayOfWeek": 5, "toDayOfWeek": 1, "fromHour": 22, "fromMinute": 0,
                     "toHour": 6, "toMinute": 0},
                ]
            }
        }
    }  # fmt: skip
    labels = expand_season("S", season).labels
    assert labels[5 * 1440 + 22 * 60] == "NIGHT"  # Saturday 22:00
    assert labels[0 * 1440 + 3 * 60] == "NIGHT"  # Monday 03:00 (from Sunday night)
    assert labels[2 * 1440 + 3 * 60] == "NIGHT"  # Wednesday 03:00 (from Tuesday night)
    assert labels[3 * 1440 + 3 * 60] is None  # Thursday 03:00

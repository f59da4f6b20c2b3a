"""The sandbox's Tesla bodies have the shape of real captures, field for field: the same keys
at every level and the same JSON types (copies of the captures in tests/fixtures/tesla/, see
tests/fixtures/SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox

from .helpers import bearer, slot_tariff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tesla"
OPTIONAL_TOTALS = {
    "total_home_usage",
    "total_solar_generation",
    "total_battery_charge",
    "total_battery_discharge",
    "total_grid_energy_exported",
}


def capture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def differences(real: Any, ours: Any, path: str = "$") -> list[str]:
    """Where ``ours`` differs in keys or types from ``real`` (lists: first items compared)."""
    if kind(real) != kind(ours):
        return [f"{path}: {kind(ours)} where the capture has {kind(real)}"]
    if isinstance(real, dict):
        found = [f"{path}.{k}: missing" for k in real if k not in ours]
        found += [f"{path}.{k}: not in the capture" for k in ours if k not in real]
        for key in real.keys() & ours.keys():
            found += differences(real[key], ours[key], f"{path}.{key}")
        return found
    if isinstance(real, list) and real and ours:
        return differences(real[0], ours[0], f"{path}[0]")
    return []


def get(http: httpx.Client, sandbox: Sandbox, token: str, operation: str, **params: str) -> Any:
    url = f"{sandbox.fleet_na_base_url}/api/1/energy_sites/{sandbox.energy_site_id}/{operation}"
    response = http.get(url, headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_comparison_has_teeth() -> None:
    real = {"a": 1, "b": {"c": "x"}, "d": [{"e": None}]}
    assert differences(real, {"a": 2.5, "b": {"c": "y"}, "d": [{"e": None}]}) == []
    assert differences(real, {"a": "1", "b": {"c": "x"}, "d": []}) == [
        "$.a: str where the capture has number"
    ]
    assert set(differences(real, {"a": 1, "b": {}, "d": [{"e": 0}], "f": 1})) == {
        "$.b.c: missing",
        "$.f: not in the capture",
        "$.d[0].e: number where the capture has null",
    }


def test_live_status(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    real = capture("teslatte_live_status_unplugged_2023_11_06.json")
    ours = get(http, sandbox, user_token, "live_status")
    assert differences(real, ours) == []


def test_products_energy_site(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    real = capture("teslatte_products_2023_11_06.json")
    ours = http.get(
        f"{sandbox.fleet_na_base_url}/api/1/products", headers=bearer(user_token)
    ).json()
    assert set(ours) == set(real)
    real_site = next(p for p in real["response"] if "energy_site_id" in p)
    assert differences(real_site, ours["response"][0]) == []


@pytest.mark.parametrize("period", ["day", "week"])
def test_calendar_history_energy(
    http: httpx.Client, sandbox: Sandbox, user_token: str, period: str
) -> None:
    real = capture("ha_teslemetry_calendar_history_energy_day_2024_09_18.json")
    ours = get(http, sandbox, user_token, "calendar_history", kind="energy", period=period)
    envelope = {k: v for k, v in real["response"].items() if k != "time_series"}
    assert (
        differences(envelope, {k: v for k, v in ours["response"].items() if k != "time_series"})
        == []
    )
    rows = ours["response"]["time_series"]
    assert rows
    all_keys = {k for row in real["response"]["time_series"] for k in row}
    always = all_keys - OPTIONAL_TOTALS
    for row in rows:
        assert always <= set(row) <= all_keys, sorted(set(row) ^ all_keys)
        assert all(isinstance(row[k], int) and row[k] >= 0 for k in row if "energy" in k)
        for total in OPTIONAL_TOTALS:
            assert (total in row) == (row.get(total, 0) != 0)
    assert any(OPTIONAL_TOTALS & set(row) for row in rows)
    sample = {k: v for row in real["response"]["time_series"] for k, v in row.items()}
    richest = max(rows, key=len)
    assert differences(sample, {**dict.fromkeys(OPTIONAL_TOTALS, 0), **richest}) == []


def test_site_info_tariff_readback(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    real = capture("tesla_fleet_api_tariff_v2_sample.json")["response"]["tariff_content_v2"]
    url = f"{sandbox.fleet_na_base_url}/api/1/energy_sites/{sandbox.energy_site_id}"
    posted = http.post(
        f"{url}/time_of_use_settings",
        headers=bearer(user_token),
        json={"tou_settings": {"tariff_content_v2": slot_tariff()}},
    )
    assert posted.status_code == 200
    info = get(http, sandbox, user_token, "site_info")["response"]
    ours = info["tariff_content_v2"]
    assert list(ours) == list(real)
    assert list(ours["sell_tariff"]) == list(real["sell_tariff"])
    assert differences(real["daily_charges"], ours["daily_charges"]) == []
    first = next(iter(real["seasons"]["Summer"]["tou_periods"].values()))["periods"][0]
    ours_first = next(iter(ours["seasons"]["Summer"]["tou_periods"].values()))["periods"][0]
    assert set(ours_first) == set(first)  # zero fields omitted the same way (00:00-00:30)
    assert ours["seasons"]["Winter"] == real["seasons"]["Winter"] == {}
    # the v1 form beside it: the same prices without the "rates"/"periods" wrappers
    v1 = info["tariff_content"]
    assert "version" not in v1
    assert v1["energy_charges"]["Summer"] == ours["energy_charges"]["Summer"]["rates"]
    label = next(iter(ours["seasons"]["Summer"]["tou_periods"]))
    assert (
        v1["seasons"]["Summer"]["tou_periods"][label]
        == ours["seasons"]["Summer"]["tou_periods"][label]["periods"]
    )

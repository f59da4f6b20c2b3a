"""``calendar_history`` and ``telemetry_history`` from the battery simulation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox

from .helpers import bearer, login


@pytest.fixture
def user_token(http: httpx.Client, sandbox: Sandbox) -> str:
    """A user token that outlives the clock jumps of these tests."""
    sandbox.register_partner("na")
    sandbox.set_token_lifetime(400 * 86_400)
    token: str = login(http, sandbox)["access_token"]
    return token


def history(
    http: httpx.Client,
    sandbox: Sandbox,
    token: str,
    operation: str = "calendar_history",
    **params: str,
) -> httpx.Response:
    url = f"{sandbox.fleet_na_base_url}/api/1/energy_sites/{sandbox.energy_site_id}/{operation}"
    return http.get(url, headers=bearer(token), params=params)


def energy(http: httpx.Client, sandbox: Sandbox, token: str, **params: str) -> dict[str, Any]:
    response = history(http, sandbox, token, kind="energy", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["response"]
    return body


@pytest.mark.parametrize(
    ("day", "rows"),
    [("2025-01-13", 288), ("2025-04-06", 300), ("2025-10-05", 276)],  # 24, 25 and 23 hours
)
def test_a_day_has_a_row_per_five_minutes(
    http: httpx.Client, sandbox: Sandbox, user_token: str, day: str, rows: int
) -> None:
    sandbox.set_time(datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=2))
    body = energy(
        http,
        sandbox,
        user_token,
        period="day",
        end_date=f"{day}T23:59:59",  # local time of time_zone
        time_zone="Australia/Sydney",
    )
    series = body["time_series"]
    assert len(series) == rows
    assert series[0]["timestamp"].startswith(f"{day}T00:00:00+1")
    assert series[-1]["timestamp"].startswith(f"{day}T23:55:00+1")
    assert body["installation_time_zone"] == "Australia/Sydney" and body["period"] == "day"


def test_rows_add_up(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    sandbox.set_energy_site(default_real_mode="self_consumption")
    sandbox.set_time(datetime(2025, 1, 17, 1, 0, tzinfo=UTC))
    params = {"period": "day", "end_date": "2025-01-16T23:59:59+11:00"}
    series = energy(http, sandbox, user_token, **params)["time_series"]
    assert len(series) == 288
    for r in series:
        assert r["solar_energy_exported"] == (
            r["grid_energy_exported_from_solar"]
            + r["battery_energy_imported_from_solar"]
            + r["consumer_energy_imported_from_solar"]
        )
        assert r["grid_energy_imported"] == (
            r["battery_energy_imported_from_grid"] + r["consumer_energy_imported_from_grid"]
        )
        assert r["battery_energy_exported"] == (
            r["consumer_energy_imported_from_battery"] + r["grid_energy_exported_from_battery"]
        )
        assert r.get("total_home_usage", 0) == sum(
            v for k, v in r.items() if k.startswith("consumer_energy_imported_from_")
        )
        assert r["raw_timestamp"] == r["timestamp"]
    # the day used solar and the battery both ways
    for name in (
        "solar_energy_exported",
        "battery_energy_exported",
        "battery_energy_imported_from_solar",
    ):
        assert sum(r[name] for r in series) > 0, name


def test_battery_energy_matches_its_state_of_charge(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    params = {"period": "day", "end_date": "2025-01-14T23:59:59+11:00"}
    series = energy(http, sandbox, user_token, **params)["time_series"]
    soe = history(http, sandbox, user_token, kind="soe", **params).json()["response"]["time_series"]
    assert len(soe) == 96 and all(0 <= r["soe"] <= 100 for r in soe)
    capacity = sandbox.app.energy_site.battery.capacity_wh  # type: ignore[union-attr]
    charged = sum(
        r["battery_energy_imported_from_grid"] + r["battery_energy_imported_from_solar"]
        for r in series[:-3]  # the steps between the first and the last quarter-hour reading
    )
    discharged = sum(r["battery_energy_exported"] for r in series[:-3])
    change = (soe[-1]["soe"] - soe[0]["soe"]) * capacity / 100
    assert charged - discharged == pytest.approx(change, abs=capacity / 100 + 288)


def test_power_rows_match_energy(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    params = {"period": "day", "end_date": "2025-01-14T23:59:59+11:00"}
    power = history(http, sandbox, user_token, kind="power", **params).json()["response"]
    assert "period" not in power
    series = energy(http, sandbox, user_token, **params)["time_series"]
    assert len(power["time_series"]) == len(series)
    for p, e in zip(power["time_series"], series, strict=True):
        assert p["timestamp"] == e["timestamp"]
        grid_wh = e["grid_energy_imported"] - e.get("total_grid_energy_exported", 0)
        assert p["grid_power"] * 5 / 60 == pytest.approx(grid_wh, abs=3)


def test_longer_periods_sum_the_days(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    sandbox.set_time(datetime(2025, 1, 20, 1, 0, tzinfo=UTC))
    week = energy(http, sandbox, user_token, period="week", end_date="2025-01-18T23:59:59+11:00")
    days = [r["timestamp"][:10] for r in week["time_series"]]
    assert days == [f"2025-01-{d}" for d in range(13, 19)]  # from the preroll's first full day
    for row in week["time_series"]:
        day = energy(
            http,
            sandbox,
            user_token,
            period="day",
            end_date=f"{row['timestamp'][:10]}T23:59:59+11:00",
        )["time_series"]
        assert row["grid_energy_imported"] == sum(r["grid_energy_imported"] for r in day)
        assert row["timestamp"].endswith("T00:00:00+11:00")
    month = energy(http, sandbox, user_token, period="month")["time_series"]
    assert [r["timestamp"][:10] for r in month][-1] == "2025-01-20"
    year = energy(http, sandbox, user_token, period="year")["time_series"]
    assert [r["timestamp"][:10] for r in year] == ["2025-01-01"]
    assert year[0]["solar_energy_exported"] == sum(r["solar_energy_exported"] for r in month)


def test_history_follows_the_settings(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.set_time(datetime(2025, 1, 14, 13, 0, tzinfo=UTC))  # 2025-01-15 00:00 in Sydney
    sandbox.set_energy_site(default_real_mode="backup")
    sandbox.set_time(datetime(2025, 1, 15, 13, 0, tzinfo=UTC))
    day = energy(http, sandbox, user_token, period="day", end_date="2025-01-15T23:59:59+11:00")
    assert len(day["time_series"]) == 288
    assert sum(r["battery_energy_exported"] for r in day["time_series"]) == 0


def test_no_rows_after_now_and_the_clock_can_go_back(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    today = energy(http, sandbox, user_token, period="day")["time_series"]
    assert today[-1]["timestamp"] == "2025-01-15T11:55:00+11:00"  # last full step before 12:00:10
    sandbox.set_time(datetime(2025, 1, 14, 13, 30, tzinfo=UTC))
    params = {"period": "day", "end_date": "2025-01-15T23:59:59+11:00"}
    earlier = energy(http, sandbox, user_token, **params)["time_series"]
    assert [r["timestamp"][11:16] for r in earlier] == [f"00:{m:02d}" for m in range(0, 30, 5)]
    sandbox.advance(timedelta(minutes=30))
    again = energy(http, sandbox, user_token, **params)["time_series"]
    assert len(again) == 12 and again[:6] == earlier


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "energy", "period": "fortnight"},
        {"kind": "savings"},
        {"kind": "energy", "end_date": "yesterday"},
        {"kind": "energy", "time_zone": "Mars/Olympus"},
        {
            "kind": "energy",
            "start_date": "2025-01-15T10:00:00+11:00",
            "end_date": "2025-01-15T09:00:00+11:00",
        },
    ],
)
def test_bad_requests(
    http: httpx.Client, sandbox: Sandbox, user_token: str, params: dict[str, str]
) -> None:
    response = history(http, sandbox, user_token, **params)
    assert response.status_code == 400 and response.json()["error"] == "invalid_field"


def test_telemetry_history_of_the_wall_connector(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    ok = history(
        http,
        sandbox,
        user_token,
        "telemetry_history",
        kind="charge",
        start_date="2025-01-14T00:00:00+11:00",
        end_date="2025-01-14T23:59:59+11:00",
    )
    assert ok.status_code == 200 and ok.json()["response"] == {"charge_history": []}
    bad = history(http, sandbox, user_token, "telemetry_history", kind="energy")
    assert bad.status_code == 400


def test_history_needs_the_data_scope(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.register_partner("na")
    token = login(http, sandbox, scope="openid offline_access energy_cmds")["access_token"]
    assert history(http, sandbox, token, kind="energy").status_code == 403

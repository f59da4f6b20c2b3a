"""The sandbox's Powerwall answers as a Powerwall would: driven through the sandbox's HTTP API
over loopback (Teslemetry's energy endpoints and commands, the ``/_sandbox`` control API), its
``live_status`` follows the reserve, grid charging, the export rule and the stored tariff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.tariff import build_request_body

NIGHT = dt.datetime(2025, 1, 14, 14, 0, tzinfo=dt.UTC)  # Wed 01:00 in Sydney: no solar
NOON = dt.datetime(2025, 1, 15, 1, 0, tzinfo=dt.UTC)  # Wed 12:00 in Sydney
NIGHT_SLOT = "01:00"
LABELS = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 30)]


class Powerwall:
    """The sandbox's energy site as a client sees it."""

    def __init__(self, sandbox: Sandbox, http: httpx.Client) -> None:
        self.http = http
        self.control = sandbox.control_base_url
        self.site = f"{sandbox.teslemetry_base_url}/api/1/energy_sites/{sandbox.energy_site_id}"
        self.auth = {"Authorization": f"Bearer {sandbox.credentials.teslemetry_token}"}
        self._post(f"{self.control}/switches", {"teslemetry_rate_limit": None})

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        response = self.http.post(url, json=body, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def at(self, moment: dt.datetime) -> None:
        self._post(f"{self.control}/clock", {"now": moment.isoformat()})

    def advance(self, minutes: float) -> None:
        self._post(f"{self.control}/clock", {"advance_seconds": minutes * 60})

    def set(self, **settings: Any) -> None:
        self._post(f"{self.control}/energy_site", settings)

    def command(self, name: str, **body: Any) -> None:
        answer = self._post(f"{self.site}/{name}", body)
        assert answer["response"]["result"] is True, answer

    def push(
        self, buy: dict[str, float], sell: dict[str, float], demand: dict[str, float] | None = None
    ) -> None:
        """A 48-slot tariff: ``buy``/``sell`` by label, 0.30/0.05 elsewhere ($/kWh)."""
        rates = {label: (buy.get(label, 0.30), sell.get(label, 0.05)) for label in LABELS}
        answer = self._post(f"{self.site}/time_of_use_settings", build_request_body(rates, demand))
        assert answer["response"]["code"] == 201, answer

    def live(self) -> dict[str, Any]:
        response = self.http.get(f"{self.site}/live_status", headers=self.auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()["response"]
        assert body["grid_power"] == pytest.approx(
            body["load_power"] - body["solar_power"] - body["battery_power"], abs=2
        )
        return body


@pytest.fixture
def powerwall() -> Iterator[Powerwall]:
    with Sandbox(seed=5) as sandbox, httpx.Client(timeout=10) as http:
        wall = Powerwall(sandbox, http)
        wall.at(NIGHT)
        yield wall


def _mode(powerwall: Powerwall, mode: str) -> None:
    powerwall.command("operation", default_real_mode=mode)
    if mode == "autonomous":  # the same price all day: nothing to gain by trading
        powerwall.push({}, {})


@pytest.mark.parametrize("mode", ["self_consumption", "autonomous"])
def test_a_reserve_above_the_charge_level_charges_from_the_grid(
    powerwall: Powerwall, mode: str
) -> None:
    _mode(powerwall, mode)
    powerwall.set(soc_percent=30)
    powerwall.command("backup", backup_reserve_percent=80)
    live = powerwall.live()
    assert live["battery_power"] < 0 and live["grid_power"] > 0
    assert live["grid_power"] > live["load_power"]  # the battery's charge comes from the grid
    powerwall.advance(30)
    assert 30 < powerwall.live()["percentage_charged"] < 80
    powerwall.advance(4 * 60)
    settled = powerwall.live()
    assert settled["percentage_charged"] == pytest.approx(80, abs=0.01)  # it stops at the reserve
    assert settled["battery_power"] == 0 and settled["grid_power"] == settled["load_power"]


def test_a_reserve_held_at_the_current_level_stops_discharge(powerwall: Powerwall) -> None:
    powerwall.command("operation", default_real_mode="self_consumption")
    powerwall.set(soc_percent=50)
    before = powerwall.live()
    assert before["battery_power"] > 0  # at night it covers the house from the battery
    powerwall.command("backup", backup_reserve_percent=50)
    held = powerwall.live()
    assert held["battery_power"] == 0 and held["grid_power"] == held["load_power"] > 0
    powerwall.advance(2 * 60)
    assert powerwall.live()["percentage_charged"] == pytest.approx(50, abs=0.01)
    # nor does a price worth exporting at move it in Time-Based Control
    powerwall.command("operation", default_real_mode="autonomous")
    powerwall.push({"03:00": 0.60}, {"03:00": 0.50})  # now is 03:00
    assert powerwall.live()["battery_power"] == 0
    powerwall.advance(60)  # the cheaper half-hours after it charge it: never below the reserve
    assert powerwall.live()["percentage_charged"] >= 50


def test_a_free_half_hour_charges_from_the_grid(powerwall: Powerwall) -> None:
    powerwall.command("operation", default_real_mode="autonomous")
    powerwall.set(soc_percent=50)
    powerwall.push({}, {})
    flat = powerwall.live()
    assert flat["battery_power"] > 0  # the same price all day: it covers the house
    powerwall.push({NIGHT_SLOT: 0.0}, {NIGHT_SLOT: 0.0})
    free = powerwall.live()
    assert free["battery_power"] < 0 and free["grid_power"] > free["load_power"]
    powerwall.push(dict.fromkeys(LABELS, 0.0), dict.fromkeys(LABELS, 0.0))
    assert powerwall.live()["battery_power"] < 0  # free all day is free now too
    # a demand charge in this half-hour: it does not import for the battery
    powerwall.push({NIGHT_SLOT: 0.0}, {NIGHT_SLOT: 0.0}, {NIGHT_SLOT: 0.45})
    windowed = powerwall.live()
    assert windowed["battery_power"] > 0 and windowed["grid_power"] <= 0


def test_a_sell_price_above_every_later_buy_price_exports(powerwall: Powerwall) -> None:
    powerwall.command("operation", default_real_mode="autonomous")
    powerwall.set(soc_percent=80)
    powerwall.push({NIGHT_SLOT: 0.60}, {NIGHT_SLOT: 0.50})
    live = powerwall.live()
    assert live["battery_power"] > live["load_power"] and live["grid_power"] < 0
    # one later half-hour buys at more than that: keep the energy for it
    powerwall.push({NIGHT_SLOT: 0.60, "18:00": 0.55}, {NIGHT_SLOT: 0.50})
    kept = powerwall.live()
    assert 0 <= kept["battery_power"] <= kept["load_power"] and kept["grid_power"] >= 0
    # exports of battery energy not allowed: it covers the house only
    powerwall.push({NIGHT_SLOT: 0.60}, {NIGHT_SLOT: 0.50})
    powerwall.command("grid_import_export", customer_preferred_export_rule="pv_only")
    solar_only = powerwall.live()
    assert 0 < solar_only["battery_power"] <= solar_only["load_power"]
    assert solar_only["grid_power"] >= 0


def test_grid_charging_disallowed_never_charges_from_the_grid(powerwall: Powerwall) -> None:
    powerwall.command("grid_import_export", disallow_charge_from_grid_with_solar_installed=True)
    powerwall.command("operation", default_real_mode="self_consumption")
    powerwall.set(soc_percent=30)
    powerwall.command("backup", backup_reserve_percent=80)
    below = powerwall.live()
    assert below["battery_power"] == 0 and below["grid_power"] == below["load_power"]
    powerwall.command("operation", default_real_mode="backup")
    assert powerwall.live()["battery_power"] == 0
    powerwall.command("operation", default_real_mode="autonomous")
    powerwall.command("backup", backup_reserve_percent=20)
    powerwall.push({NIGHT_SLOT: 0.0}, {NIGHT_SLOT: 0.0})
    free = powerwall.live()
    assert free["battery_power"] >= 0 and free["grid_power"] <= free["load_power"]
    # by day it still charges, from the solar surplus only
    powerwall.at(NOON)
    powerwall.command("backup", backup_reserve_percent=100)
    noon = powerwall.live()
    assert noon["solar_power"] > noon["load_power"]
    assert noon["battery_power"] < 0 and noon["grid_power"] <= 0
    powerwall.command("grid_import_export", disallow_charge_from_grid_with_solar_installed=False)
    allowed = powerwall.live()
    assert allowed["grid_power"] > 0  # allowed again: the reserve is refilled from the grid too

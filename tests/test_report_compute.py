"""``report``'s pure calculations, each checked against an independent calculation here: bucket by
bucket (5 minutes) with plain lists, not through the report's interval slots."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.amber.models import parse_usage
from amber_tesla_sync.report.compute import compute_day, day_bounds
from amber_tesla_sync.report.model import PricePoint
from amber_tesla_sync.tesla.energy import parse_energy_history

BRISBANE = ZoneInfo("Australia/Brisbane")
DAY = dt.date(2026, 11, 20)
FIXTURES = Path(__file__).parent / "fixtures"


def simulated_day(seed: int, zone: ZoneInfo = BRISBANE, day: dt.date = DAY) -> dict:
    """A day of 5-minute flows (Wh) whose grid balance holds, and 30-minute prices (c/kWh)."""
    rng = random.Random(seed)
    start, end = day_bounds(day, zone)
    buckets = int((end - start).total_seconds() // 300)
    rows, flows = [], []
    for n in range(buckets):
        hour = n / 12
        solar = max(0.0, 600 * (1 - abs(hour - 12) / 6)) * rng.uniform(0.7, 1.0)
        home = rng.uniform(40, 220)
        charge_solar = min(solar * 0.5, 300) if 9 <= hour < 14 else 0
        charge_grid = rng.uniform(100, 300) if 2 <= hour < 4 else 0
        discharge = rng.uniform(100, 400) if 17 <= hour < 21 else 0
        to_home = min(discharge, home)
        to_grid = discharge - to_home
        solar_home = min(solar - charge_solar, home - to_home)
        solar_grid = solar - charge_solar - solar_home
        grid_home = home - to_home - solar_home
        grid_import = grid_home + charge_grid
        moment = (start + dt.timedelta(minutes=5 * n)).astimezone(zone)
        rows.append(
            {
                "timestamp": moment.isoformat(),
                "solar_energy_exported": round(solar),
                "grid_energy_imported": round(grid_import),
                "grid_energy_exported_from_solar": round(solar_grid),
                "grid_energy_exported_from_battery": round(to_grid),
                "battery_energy_exported": round(discharge),
                "battery_energy_imported_from_grid": round(charge_grid),
                "battery_energy_imported_from_solar": round(charge_solar),
                "consumer_energy_imported_from_grid": round(grid_home),
                "consumer_energy_imported_from_solar": round(solar_home),
                "consumer_energy_imported_from_battery": round(to_home),
            }
        )
        flows.append({key: value for key, value in rows[-1].items() if key != "timestamp"})
    halves = buckets // 6
    buy = [round(rng.uniform(5, 60), 4) for _ in range(halves)]
    feed = [round(-rng.uniform(0, 20), 4) for _ in range(halves)]  # Amber's sign: paid < 0
    return {"rows": rows, "flows": flows, "buy": buy, "feed": feed, "start": start}


def usage_body(sim: dict, noise: float = 0.0, skip: frozenset[int] = frozenset()) -> list:
    """Amber's usage records from the flows, as Amber would meter and bill them."""
    body = []
    for half, (buy, feed) in enumerate(zip(sim["buy"], sim["feed"], strict=True)):
        if half in skip:
            continue
        part = sim["flows"][half * 6 : half * 6 + 6]
        imported = sum(f["grid_energy_imported"] for f in part) / 1000 + noise
        exported = (
            sum(
                f["grid_energy_exported_from_solar"] + f["grid_energy_exported_from_battery"]
                for f in part
            )
            / 1000
        )
        end = sim["start"] + dt.timedelta(minutes=30 * (half + 1))
        for channel, ident, kwh, price in (
            ("general", "E1", imported, buy),
            ("feedIn", "B1", exported, feed),
        ):
            body.append(
                {
                    "type": "Usage",
                    "duration": 30,
                    "endTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "quality": "billable",
                    "kwh": round(kwh, 3),
                    "perKwh": price,
                    "channelType": channel,
                    "channelIdentifier": ident,
                    "cost": round(round(kwh, 3) * price, 4),
                }
            )
    return body


def energy_of(sim: dict) -> list:
    return parse_energy_history({"time_series": sim["rows"]})


def prices_of(sim: dict) -> list[PricePoint]:
    points = []
    for half, (buy, feed) in enumerate(zip(sim["buy"], sim["feed"], strict=True)):
        begin = sim["start"] + dt.timedelta(minutes=30 * half)
        end = begin + dt.timedelta(minutes=30)
        points += [PricePoint(begin, end, "general", buy), PricePoint(begin, end, "feedIn", feed)]
    return points


NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def test_a_day_matches_an_independent_calculation() -> None:
    sim = simulated_day(7)
    body = usage_body(sim)
    report = compute_day(DAY, BRISBANE, parse_usage(body), energy_of(sim), [], 30, NOW)

    general = [r for r in body if r["channelType"] == "general"]
    feed = [r for r in body if r["channelType"] == "feedIn"]
    assert report.bill.bought == pytest.approx(sum(r["kwh"] for r in general))
    assert report.bill.cost == pytest.approx(sum(r["cost"] for r in general) / 100)
    assert report.bill.sold == pytest.approx(sum(r["kwh"] for r in feed))
    assert report.bill.earnings == pytest.approx(-sum(r["cost"] for r in feed) / 100)
    assert report.net_bill == pytest.approx(sum(r["cost"] for r in body) / 100)

    # bucket by bucket: the price is that of the half-hour the bucket falls in
    plain = actual = 0.0
    charge_cost = charge_kwh = discharge_value = discharge_kwh = 0.0
    for n, f in enumerate(sim["flows"]):
        buy, sell = sim["buy"][n // 6] / 100, -sim["feed"][n // 6] / 100
        home = sum(f[f"consumer_energy_imported_from_{s}"] for s in ("grid", "solar", "battery"))
        net_home = (home - f["solar_energy_exported"]) / 1000
        plain += max(net_home, 0) * buy - max(-net_home, 0) * sell
        exported = f["grid_energy_exported_from_solar"] + f["grid_energy_exported_from_battery"]
        actual += f["grid_energy_imported"] / 1000 * buy - exported / 1000 * sell
        charge_cost += (
            f["battery_energy_imported_from_grid"] * buy
            + f["battery_energy_imported_from_solar"] * sell
        )
        charge_kwh += (
            f["battery_energy_imported_from_grid"] + f["battery_energy_imported_from_solar"]
        )
        discharge_value += (
            f["consumer_energy_imported_from_battery"] * buy
            + f["grid_energy_exported_from_battery"] * sell
        )
        discharge_kwh += (
            f["consumer_energy_imported_from_battery"] + f["grid_energy_exported_from_battery"]
        )
    assert report.without_battery is not None and report.with_battery is not None
    assert report.without_battery.net == pytest.approx(plain)
    assert report.with_battery.net == pytest.approx(actual)
    assert report.battery_value == pytest.approx(plain - actual)
    assert report.battery_value > 0  # charged cheap at night and on solar, ran the evening
    assert report.charge_price == pytest.approx(charge_cost / charge_kwh * 100)
    assert report.discharge_price == pytest.approx(discharge_value / discharge_kwh * 100)
    assert report.charged == pytest.approx(charge_kwh / 1000)
    assert len(report.slots) == 48 and report.complete
    assert not report.estimated and report.notes == []
    rec = report.reconciliation
    assert rec is not None and rec.agrees and rec.intervals == 48
    assert abs(rec.difference) < 0.05  # only Amber's rounding to Wh


def test_a_gap_is_estimated_from_the_powerwall_at_the_recorded_prices() -> None:
    sim = simulated_day(11)
    gap = frozenset(range(20, 26))
    body = usage_body(sim, skip=gap)
    report = compute_day(DAY, BRISBANE, parse_usage(body), energy_of(sim), prices_of(sim), 30, NOW)

    assert report.estimated_intervals == len(gap)
    assert [n for n, s in enumerate(report.slots) if s.estimated] == sorted(gap)
    expected_cost = sum(r["cost"] for r in body if r["channelType"] == "general") / 100
    expected_bought = sum(r["kwh"] for r in body if r["channelType"] == "general")
    for half in gap:
        part = sim["flows"][half * 6 : half * 6 + 6]
        kwh = sum(f["grid_energy_imported"] for f in part) / 1000
        expected_bought += kwh
        expected_cost += kwh * sim["buy"][half] / 100
    assert report.bill.bought == pytest.approx(expected_bought)
    assert report.bill.cost == pytest.approx(expected_cost)
    assert report.estimated
    assert any("6 of 48 intervals have no Amber usage record" in note for note in report.notes)
    assert report.reconciliation is not None and report.reconciliation.intervals == 42


def test_a_gap_without_a_recorded_price_is_unpriced_not_free() -> None:
    sim = simulated_day(3)
    body = usage_body(sim, skip=frozenset({30}))
    report = compute_day(DAY, BRISBANE, parse_usage(body), energy_of(sim), [], 30, NOW)
    assert report.unpriced_intervals == 1
    assert report.slots[30].buy is None
    assert any("neither Amber usage nor a recorded price" in note for note in report.notes)


def test_meters_that_disagree_are_reported() -> None:
    sim = simulated_day(5)
    body = usage_body(sim, noise=0.05)  # Amber meters 50 Wh more every half-hour: 2.4 kWh a day
    report = compute_day(DAY, BRISBANE, parse_usage(body), energy_of(sim), [], 30, NOW)
    rec = report.reconciliation
    assert rec is not None and not rec.agrees
    assert rec.difference == pytest.approx(-2.4, abs=0.05)
    assert any("disagree" in note for note in report.notes)


def test_a_day_not_over_is_cut_at_now() -> None:
    sim = simulated_day(9)
    now = sim["start"] + dt.timedelta(hours=10, minutes=10)
    report = compute_day(DAY, BRISBANE, [], energy_of(sim), prices_of(sim), 30, now)
    assert len(report.slots) == 21 and not report.complete  # the last one is the partial 10:00
    assert report.slots[-1].end == now
    assert all(s.estimated for s in report.slots)


def test_daylight_saving_days_have_23_and_25_hours() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    short = compute_day(dt.date(2026, 10, 4), sydney, [], [], [], 30, NOW)
    long = compute_day(dt.date(2026, 4, 5), sydney, [], [], [], 30, NOW)
    assert (len(short.slots), len(long.slots)) == (46, 50)


def test_the_real_energy_history_capture_parses() -> None:
    body = json.loads(
        (FIXTURES / "tesla/ha_teslemetry_calendar_history_energy_day_2024_09_18.json").read_text()
    )
    rows = parse_energy_history(body["response"])
    assert len(rows) == 2
    morning = rows[1]
    assert morning.start == dt.datetime(2024, 9, 17, 22, 45, tzinfo=dt.UTC)
    assert (morning.solar, morning.battery_charge_solar, morning.home, morning.grid_export) == (
        724,
        684,
        38,
        2,
    )
    assert rows[0].battery_to_home == 36
    assert parse_energy_history({"time_series": None}) == []


def test_an_actual_price_wins_over_a_forecast_kept_from_an_earlier_run() -> None:
    sim = simulated_day(13)
    points = prices_of(sim)
    begin = sim["start"] + dt.timedelta(hours=10)
    stale = PricePoint(begin, begin + dt.timedelta(minutes=30), "general", 99.0, "ForecastInterval")
    body = usage_body(sim, skip=frozenset({20}))
    report = compute_day(
        DAY, BRISBANE, parse_usage(body), energy_of(sim), [*points, stale], 30, NOW
    )
    assert report.slots[20].buy == pytest.approx(sim["buy"][20])
    alone = compute_day(DAY, BRISBANE, parse_usage(body), energy_of(sim), [stale], 30, NOW)
    assert alone.slots[20].buy == 99.0


def test_nem_days_and_request_ranges() -> None:
    from amber_tesla_sync.report.gather import _nem_dates, _runs

    sydney = ZoneInfo("Australia/Sydney")
    # a summer day in Sydney starts at 23:00 NEM time the day before
    assert _nem_dates(dt.date(2026, 1, 13), sydney) == [dt.date(2026, 1, 12), dt.date(2026, 1, 13)]
    assert _nem_dates(DAY, BRISBANE) == [DAY]
    dates = [DAY + dt.timedelta(days=n) for n in range(10)] + [DAY + dt.timedelta(days=12)]
    ranges = list(_runs(dates))
    assert ranges == [
        (DAY, DAY + dt.timedelta(days=6)),
        (DAY + dt.timedelta(days=7), DAY + dt.timedelta(days=9)),
        (DAY + dt.timedelta(days=12), DAY + dt.timedelta(days=12)),
    ]
    assert all((last - first).days < 7 for first, last in ranges)

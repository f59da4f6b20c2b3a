"""``report`` against the sandbox, whose Amber usage and Powerwall history follow its battery
simulation. Figures are checked against a calculation made here from the raw answers, bucket by
bucket."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from synckit import T0, Synced

DAY_1, DAY_2 = dt.date(2026, 1, 13), dt.date(2026, 1, 14)  # T0 is 2026-01-15 16:42 in Sydney


def amber_usage(synced: Synced, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    sandbox = synced.sandbox
    response = httpx.get(
        f"{sandbox.amber_base_url}/sites/{sandbox.amber_site_id}/usage",
        params={"startDate": start.isoformat(), "endDate": end.isoformat()},
        headers={"Authorization": f"Bearer {sandbox.credentials.amber_token}"},
    )
    response.raise_for_status()
    body: list[dict[str, Any]] = response.json()
    return body


def energy_rows(synced: Synced, day: dt.date, zone: ZoneInfo) -> list[dict[str, Any]]:
    sandbox = synced.sandbox
    start = dt.datetime.combine(day, dt.time(0, 0), zone)
    end = dt.datetime.combine(day, dt.time(23, 59, 59), zone)
    response = httpx.get(
        f"{sandbox.teslemetry_base_url}/api/1/energy_sites/{sandbox.energy_site_id}/calendar_history",
        params={
            "kind": "energy",
            "period": "day",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "time_zone": zone.key,
        },
        headers={"Authorization": f"Bearer {sandbox.credentials.teslemetry_token}"},
    )
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["response"]["time_series"]
    return rows


def end_of(row: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(row["endTime"].replace("Z", "+00:00"))


def expected_day(
    usage: list[dict[str, Any]], rows: list[dict[str, Any]], day: dt.date, zone: ZoneInfo
) -> dict[str, float]:
    """The day's figures from the raw answers: Amber's records summed; the day without the
    battery and with it from Tesla's 5-minute rows, each priced at the Amber interval it ends in."""
    start = dt.datetime.combine(day, dt.time(0, 0), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), zone)
    mine = [u for u in usage if start < end_of(u) <= end]
    general = [u for u in mine if u["channelType"] == "general"]
    feed = [u for u in mine if u["channelType"] == "feedIn"]
    buy = {end_of(u): u["perKwh"] / 100 for u in general}
    sell = {end_of(u): -u["perKwh"] / 100 for u in feed}
    length = dt.timedelta(minutes=general[0]["duration"])
    plain = actual = 0.0
    tesla_net = 0.0
    for row in rows:
        begin = dt.datetime.fromisoformat(row["timestamp"])
        epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        interval_end = epoch + ((begin - epoch) // length + 1) * length
        b, s = buy[interval_end], sell[interval_end]
        home = sum(
            row[f"consumer_energy_imported_from_{x}"]
            for x in ("grid", "solar", "battery", "generator")
        )
        surplus = (row["solar_energy_exported"] - home) / 1000
        plain += max(-surplus, 0) * b - max(surplus, 0) * s
        exported = sum(
            row[f"grid_energy_exported_from_{x}"] for x in ("solar", "battery", "generator")
        )
        actual += row["grid_energy_imported"] / 1000 * b - exported / 1000 * s
        tesla_net += (row["grid_energy_imported"] - exported) / 1000
    return {
        "bought": sum(u["kwh"] for u in general),
        "cost": sum(u["cost"] for u in general) / 100,
        "sold": sum(u["kwh"] for u in feed),
        "earnings": -sum(u["cost"] for u in feed) / 100,
        "net": sum(u["cost"] for u in mine) / 100,
        "plain": plain,
        "actual": actual,
        "tesla_net": tesla_net,
        "amber_net": sum(u["kwh"] for u in general) - sum(u["kwh"] for u in feed),
        "intervals": len(general),
    }


def report_json(synced: Synced, *args: str) -> dict[str, Any]:
    result = synced.run("report", "--now", synced.now.isoformat(), "--json", *args)
    assert result.code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def tesla_reads(synced: Synced) -> list[dict[str, Any]]:
    return [r for r in synced.tesla_requests() if r.get("method") == "GET"]


@pytest.fixture
def reported(synced: Synced) -> Synced:
    """A day of syncs behind it (recorded prices, runs for the tariff's share)."""
    synced.at(T0 - dt.timedelta(days=1, hours=12))
    for _ in range(8):
        assert synced.sync().code in (0, 5), "sync failed"
        synced.advance(180)
    synced.at(T0)
    synced.sandbox.clear_requests()
    return synced


def test_a_simulated_day_matches_an_independent_calculation(reported: Synced) -> None:
    document = report_json(reported, "--days", "2")
    site = document["sites"][0]
    zone = ZoneInfo(site["time_zone"])
    assert [d["date"] for d in site["days"]] == [DAY_1.isoformat(), DAY_2.isoformat()]
    reads = len(tesla_reads(reported))
    assert document["tesla_requests"]["read"] == reads == 2  # one per day, the zone was known
    usage = amber_usage(reported, DAY_1 - dt.timedelta(days=1), DAY_2)
    for day, got in zip((DAY_1, DAY_2), site["days"], strict=True):
        want = expected_day(usage, energy_rows(reported, day, zone), day, zone)
        assert got["estimated"] is False and got["complete"] is True
        bill = got["bill"]
        assert bill["bought_kwh"] == pytest.approx(want["bought"], abs=1e-3)
        assert bill["cost"] == pytest.approx(want["cost"], abs=1e-3)
        assert bill["sold_kwh"] == pytest.approx(want["sold"], abs=1e-3)
        assert bill["earnings"] == pytest.approx(want["earnings"], abs=1e-3)
        assert got["net_bill"] == pytest.approx(want["net"], abs=1e-3)
        assert got["without_battery"]["net_bill"] == pytest.approx(want["plain"], abs=1e-3)
        assert got["battery_value"] == pytest.approx(want["plain"] - want["actual"], abs=1e-3)
        rec = got["reconciliation"]
        assert rec["intervals"] == want["intervals"] == 24 * 60 // usage[0]["duration"]
        assert rec["powerwall_net_kwh"] == pytest.approx(want["tesla_net"], abs=1e-3)
        assert rec["amber_net_kwh"] == pytest.approx(want["amber_net"], abs=1e-3)
        assert rec["agrees"] is True
    # the first sync ran at 04:42:10 on DAY_2 (local): before it nothing is known, after it the
    # tool's tariff ran (pushed, then unchanged or kept while a sync refused)
    share = site["days"][1]["tariff"]
    before = (4 * 3600 + 42 * 60 + 10) / 86400
    assert share["unknown_share"] == pytest.approx(before, abs=1e-4)
    assert share["tool_share"] == pytest.approx(1 - before, abs=1e-4)
    assert site["days"][0]["tariff"]["unknown_share"] == 1.0


def test_a_second_report_makes_no_tesla_request(reported: Synced) -> None:
    first = reported.run("report", "--now", reported.now.isoformat(), "--days", "3")
    assert first.code == 0, first.stderr
    assert "Tesla requests: 3 read" in first.stdout
    assert len(tesla_reads(reported)) == 3
    reported.sandbox.clear_requests()
    second = reported.run("report", "--now", reported.now.isoformat(), "--days", "3")
    assert second.code == 0, second.stderr
    assert tesla_reads(reported) == []
    assert "Tesla requests: 0 read" in second.stdout
    # Amber is asked again only for the day it still revises (estimated, not yet billable)
    amber = [r for r in reported.sandbox.requests() if "/usage" in r.get("path", "")]
    assert len(amber) <= 1
    assert first.stdout.split("Tesla requests")[0] == second.stdout.split("Tesla requests")[0]


def test_a_day_with_a_gap_is_estimated_and_says_so(reported: Synced) -> None:
    sandbox = reported.sandbox
    body = amber_usage(reported, DAY_2 - dt.timedelta(days=1), DAY_2)
    sandbox.clear_requests()
    gap_start = dt.datetime(2026, 1, 14, 9, 0, tzinfo=dt.UTC)  # 20:00 in Sydney
    gap_end = gap_start + dt.timedelta(hours=2)
    kept = [u for u in body if not gap_start < end_of(u) <= gap_end]
    per_day = 24 * 60 // body[0]["duration"]  # the sandbox's site is billed at 5 minutes
    missing = 120 // body[0]["duration"]
    assert len(body) - len(kept) == 2 * missing  # two hours, general and feed-in
    sandbox.add_fault(
        f"/amber/v1/sites/{sandbox.amber_site_id}/usage", "status", status=200, body=kept, count=1
    )
    document = report_json(reported, "--since", DAY_2.isoformat())
    day = document["sites"][0]["days"][0]
    assert day["date"] == DAY_2.isoformat()
    assert day["estimated"] is True and day["estimated_intervals"] == missing
    assert day["unpriced_intervals"] == 0  # sync recorded the prices of those hours
    note = f"{missing} of {per_day} intervals have no Amber usage record"
    assert any(note in n for n in day["notes"]), day["notes"]
    estimated = [i for i in day["intervals"] if i["estimated"]]
    assert dt.datetime.fromisoformat(next(i["start"] for i in estimated)) == gap_start
    # the estimate: Tesla's grid import at the recorded price, which is Amber's price
    removed = {end_of(u): u for u in body if u not in kept and u["channelType"] == "general"}
    for interval in estimated:
        end = dt.datetime.fromisoformat(interval["end"])
        assert interval["buy"] == pytest.approx(removed[end]["perKwh"], abs=1e-4)
        assert interval["bought_kwh"] == pytest.approx(interval["powerwall"]["grid_import_kwh"])
        assert interval["cost"] == pytest.approx(
            interval["powerwall"]["grid_import_kwh"] * removed[end]["perKwh"] / 100, abs=1e-4
        )
    assert day["reconciliation"]["intervals"] == per_day - missing
    text = reported.run("report", "--now", reported.now.isoformat(), "--since", DAY_2.isoformat())
    assert "(est.)" in text.stdout


def test_the_json_shape(reported: Synced) -> None:
    document = report_json(reported, "--days", "1")
    assert {
        "schema",
        "command",
        "generated_at",
        "price_unit",
        "money_unit",
        "energy_unit",
        "tesla_requests",
        "sites",
    } <= set(document)
    assert (document["schema"], document["command"], document["price_unit"]) == (
        1,
        "report",
        "c/kWh",
    )
    assert dt.datetime.fromisoformat(document["generated_at"]).utcoffset() is not None
    site = document["sites"][0]
    assert set(site) == {"site", "time_zone", "days", "total"}
    day = site["days"][0]
    for key in ("bill", "without_battery", "battery", "tariff", "reconciliation", "intervals"):
        assert day[key] is not None, key
    assert set(day["bill"]) == {"bought_kwh", "cost", "sold_kwh", "earnings", "net_bill"}
    assert set(day["battery"]) == {
        "charged_kwh",
        "discharged_kwh",
        "average_charge_price",
        "average_discharge_price",
    }
    assert len(day["intervals"]) in (48, 288)  # 30- or 5-minute billing
    first = day["intervals"][0]
    assert dt.datetime.fromisoformat(first["start"]).utcoffset() is not None
    assert set(first["powerwall"]) >= {"solar_kwh", "home_kwh", "grid_import_kwh"}
    assert site["total"]["net_bill"] == pytest.approx(day["net_bill"])


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_the_image_is_written(reported: Synced, tmp_path: Any, kind: str) -> None:
    path = tmp_path / f"report.{kind}"
    result = reported.run(
        "report", "--now", reported.now.isoformat(), "--days", "2", f"--{kind}", str(path)
    )
    assert result.code == 0, result.stderr
    data = path.read_bytes()
    assert len(data) > 1000
    assert data.startswith(b"\x89PNG") if kind == "png" else b"<svg" in data[:2000]


def test_without_matplotlib_the_option_says_how_to_install_it(
    reported: Synced, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    path = tmp_path / "report.png"
    result = reported.run(
        "report", "--now", reported.now.isoformat(), "--days", "1", "--png", str(path)
    )
    assert result.code == 2
    assert "pip install 'amber-tesla-sync[charts]'" in result.stderr
    assert "Traceback" not in result.stderr and not path.exists()


def test_when_the_powerwall_history_cannot_be_read_the_bill_is_still_shown(
    reported: Synced,
) -> None:
    sandbox = reported.sandbox
    sandbox.add_fault(
        f"/teslemetry/api/1/energy_sites/{sandbox.energy_site_id}/calendar_history",
        status=503,
        count=100,
    )
    document = report_json(reported, "--days", "3")
    days = document["sites"][0]["days"]
    assert all(day["bill"]["bought_kwh"] > 0 for day in days)  # Amber's bill, as metered
    assert all(day["battery_value"] is None and day["reconciliation"] is None for day in days)
    assert all(any("could not be read" in note for note in day["notes"]) for day in days)
    # one day's attempts, then no more reads of a history that is not answering
    assert document["tesla_requests"]["read"] == len(tesla_reads(reported)) == 3


def test_without_any_sync_the_zone_is_read_once_and_kept(synced: Synced) -> None:
    state = synced.site.state / "state.json"
    if state.exists():  # forget what the login learnt, as after a lost state file
        state.unlink()
    first = report_json(synced, "--days", "1")
    paths = [r["path"] for r in tesla_reads(synced)]
    assert sum("/site_info" in p for p in paths) == 1
    assert sum("/calendar_history" in p for p in paths) == 1
    assert first["tesla_requests"]["read"] == 2
    assert first["sites"][0]["time_zone"] == "Australia/Sydney"
    assert first["sites"][0]["days"][0]["tariff"]["unknown_share"] == 1.0  # no sync ever ran
    synced.sandbox.clear_requests()
    second = report_json(synced, "--days", "1")
    assert tesla_reads(synced) == [] and second["tesla_requests"]["read"] == 0
    assert second["sites"] == first["sites"]


def test_the_tariffs_share_follows_pushes_refusals_and_a_foreign_tariff(synced: Synced) -> None:
    """DAY_2 (local): the first sync at 11:00; another app's tariff found at 12:30 (it counts
    from 11:00, when it is not known to have been replaced); a refusal at 14:00 keeps the last good
    tariff until 15:00."""
    config = synced.site.config  # the Powerwall checked hourly: the foreign tariff seen at 12:30
    config.write_text(config.read_text() + "\n[sync]\ncheck_remote_every_minutes = 60\n")
    synced.at(dt.datetime(2026, 1, 14, 0, 0, tzinfo=dt.UTC))  # 11:00 in Sydney
    assert synced.sync().code == 0
    foreign = json.loads(json.dumps(synced.sandbox.stored_tariff()))
    foreign["code"] = "OTHER_TOOL:PLAN"
    synced.sandbox.set_tariff(foreign)
    synced.advance(90)
    found = synced.sync_json()["sites"][0]
    assert found["outcome"] == "verified" and "not ours" in found["reason"]
    synced.advance(90)
    synced.serve_prices([])  # an answer the tool refuses
    assert synced.sync().code != 0
    synced.advance(60)
    assert synced.sync().code == 0
    synced.at(T0)
    share = report_json(synced, "--days", "1")["sites"][0]["days"][0]["tariff"]
    assert share["unknown_share"] == pytest.approx(11 / 24, abs=1e-4)
    assert share["foreign_share"] == pytest.approx(1.5 / 24, abs=1e-4)
    assert share["kept_share"] == pytest.approx(1 / 24, abs=1e-4)
    assert share["tool_share"] == pytest.approx(11.5 / 24, abs=1e-4)

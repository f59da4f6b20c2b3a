"""Demand windows through ``sync`` against the sandbox: pushed in ``demand_charges``, read back
and verified, recognised as ours on the next run, shown by ``status``."""

from __future__ import annotations

import json

import pytest

from amber_tesla_sync.tariff import validate_request_body
from conftest import CliRunner
from sandboxkit import SandboxSite
from synckit import CHECK_DUE, T0, Synced

# T0 is Thursday 16:42 in Sydney and Melbourne; the sandbox's demand-network site (the 30-minute
# VIC site) marks weekdays 15:00-21:00 as its demand window.
AMBER_WINDOW = {f"{hour:02d}:{minute:02d}" for hour in range(15, 21) for minute in (0, 30)}
SETTINGS_WINDOW = {f"{hour:02d}:{minute:02d}" for hour in range(16, 21) for minute in (0, 30)}


def _demand_site(site: SandboxSite, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Synced:
    harness = Synced(site, cli, monkeypatch)
    harness.at(T0)
    site.sandbox.set_amber_rate_limit(None)
    site.sandbox.set_teslemetry_rate_limit(None)
    args, token = site.token_login("amber")
    args[args.index(site.sandbox.amber_site_id)] = site.sandbox.amber_site_id_30min
    assert harness.run(*args, stdin=token).code == 0
    assert harness.login("teslemetry").code == 0
    site.sandbox.clear_requests()
    return harness


def _with_demand(site: SandboxSite, text: str) -> None:
    site.config.write_text(site.config.read_text() + f"\n[demand]\n{text}\n")


def _pushed_demand(synced: Synced) -> dict[str, float]:
    tariff = synced.sandbox.tariff_posts()[-1]["body"]["tou_settings"]["tariff_content_v2"]
    rates: dict[str, float] = tariff["demand_charges"]["Summer"]["rates"]
    return rates


def _window(rates: dict[str, float]) -> set[str]:
    return {name.removeprefix("PERIOD_").replace("_", ":") for name, rate in rates.items() if rate}


def test_amber_s_marks_are_pushed_read_back_and_kept(
    site: SandboxSite, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_demand(site, 'charge_per_kw = 0.45\nwindow = "17:00-19:00"')  # Amber's marks win
    synced = _demand_site(site, cli, monkeypatch)
    summary = synced.sync_json()
    assert summary["_code"] == 0, summary["_stderr"]
    assert summary["sites"][0]["outcome"] == "verified"  # read back with its demand charges
    rates = _pushed_demand(synced)
    assert len(rates) == 48 and set(rates.values()) == {0.45, 0.0}
    assert _window(rates) == AMBER_WINDOW
    body = synced.sandbox.tariff_posts()[-1]["body"]
    assert validate_request_body(body) == []
    assert synced.sandbox.validation_problems() == []
    readback = synced.sandbox.readback_tariff()
    assert readback["demand_charges"]["Summer"]["rates"] == rates
    # the next run that reads the Powerwall (hourly) knows the tariff there as its own
    synced.advance(CHECK_DUE)
    synced.sandbox.clear_requests()
    again = synced.sync_json()
    assert again["_code"] == 0
    assert any(r["path"].endswith("/site_info") for r in synced.tesla_requests())
    assert "not ours" not in again["sites"][0]["reason"], again["sites"][0]["reason"]
    assert not any("not ours" in w for w in again["sites"][0]["warnings"])
    status = synced.run("status", "--now", synced.now.isoformat())
    assert status.code == 0, status.stderr
    said = " ".join(status.stdout.split())
    assert "demand window 15:00\u201321:00 at $0.45/kW (in the Powerwall's tariff)" in said
    shown = json.loads(synced.run("status", "--json", "--now", synced.now.isoformat()).stdout)
    demand = shown["sites"][0]["demand"]
    assert demand["windows"] == [{"from": "15:00", "to": "21:00"}]
    assert demand["charge_per_kw"] == 0.45
    plan = shown["sites"][0]["plan"]
    assert {slot["slot"] for slot in plan if slot["demand_window"]} == AMBER_WINDOW


def test_the_settings_hours_are_pushed_where_amber_marks_none(synced: Synced) -> None:
    # the 5-minute NSW site is on a time-of-use network: its prices carry no demand marks
    _with_demand(synced.site, 'charge_per_kw = 0.3\nwindow = "16:00-21:00"\ndays = "weekdays"')
    summary = synced.sync_json()
    assert summary["_code"] == 0, summary["_stderr"]
    assert summary["sites"][0]["outcome"] == "verified"
    rates = _pushed_demand(synced)
    assert _window(rates) == SETTINGS_WINDOW
    assert synced.sandbox.readback_tariff()["demand_charges"]["Summer"]["rates"] == rates
    preview = synced.run("tariff", "--json", "--now", synced.now.isoformat())
    assert json.loads(preview.stdout)["tesla_request"] == synced.sandbox.tariff_posts()[-1]["body"]


def test_a_demand_charge_without_a_known_window_pushes_none_and_status_says_so(
    synced: Synced,
) -> None:
    _with_demand(synced.site, "charge_per_kw = 0.3")
    assert synced.sync().code == 0
    tariff = synced.sandbox.tariff_posts()[-1]["body"]["tou_settings"]["tariff_content_v2"]
    assert tariff["demand_charges"] == {"ALL": {"rates": {"ALL": 0}}, "Summer": {}, "Winter": {}}
    status = synced.run("status", "--now", synced.now.isoformat())
    said = " ".join(status.stdout.split())
    assert "demand charge $0.30/kW set, but the Powerwall's tariff has no demand window" in said


def test_without_the_setting_sync_pushes_no_demand_charge_and_status_shows_none(
    synced: Synced,
) -> None:
    assert synced.sync().code == 0
    tariff = synced.sandbox.tariff_posts()[-1]["body"]["tou_settings"]["tariff_content_v2"]
    assert tariff["demand_charges"] == {"ALL": {"rates": {"ALL": 0}}, "Summer": {}, "Winter": {}}
    status = synced.run("status", "--now", synced.now.isoformat())
    assert "demand" not in status.stdout.lower()
    shown = json.loads(synced.run("status", "--json", "--now", synced.now.isoformat()).stdout)
    assert shown["sites"][0]["demand"] is None


def test_a_powerwall_that_lost_its_demand_charges_is_noticed_and_pushed_again(
    site: SandboxSite, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last push keeps its demand charge: the check compares the Powerwall's tariff
    with it, demand charges included, so one that lost them is not taken for ours."""
    _with_demand(site, "charge_per_kw = 0.45")
    synced = _demand_site(site, cli, monkeypatch)
    assert synced.sync_json()["sites"][0]["outcome"] == "verified"
    stripped = json.loads(json.dumps(synced.sandbox.readback_tariff()))
    for season in stripped["demand_charges"].values():
        if "rates" in season:
            season["rates"] = dict.fromkeys(season["rates"], 0.0)
    synced.sandbox.set_tariff(stripped)
    synced.advance(CHECK_DUE)  # the check reads the Powerwall
    posts = len(synced.sandbox.tariff_posts())
    again = synced.sync_json()
    assert again["_code"] == 0, again["_stderr"]
    assert "demand" in again["sites"][0]["reason"], again["sites"][0]["reason"]
    assert len(synced.sandbox.tariff_posts()) == posts + 1
    assert _window(_pushed_demand(synced)) == AMBER_WINDOW


def test_a_new_demand_charge_is_pushed_though_no_price_moved(
    site: SandboxSite, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _demand_site(site, cli, monkeypatch)
    assert synced.sync_json()["sites"][0]["outcome"] == "verified"
    assert not any(
        rate
        for season in synced.sandbox.tariff_posts()[-1]["body"]["tou_settings"][
            "tariff_content_v2"
        ]["demand_charges"].values()
        for rate in season.get("rates", {}).values()
    )
    _with_demand(site, "charge_per_kw = 0.45")
    synced.advance(5)
    posts = len(synced.sandbox.tariff_posts())
    again = synced.sync_json()
    assert again["_code"] == 0, again["_stderr"]
    assert again["sites"][0]["reason"].startswith("the demand charge or its window changed")
    assert len(synced.sandbox.tariff_posts()) == posts + 1
    assert _window(_pushed_demand(synced)) == AMBER_WINDOW
    synced.advance(5)  # once pushed, the same charge pushes nothing more
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"

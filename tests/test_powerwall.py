"""Can the Powerwall obey? Each setting driven through the sandbox: the warning (with its fix) in
sync, sync --json, status, status --json and doctor; the opt-in fixes and the owner's values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from amber_tesla_sync.sync.powerwall_checks import findings
from amber_tesla_sync.tesla.models import SiteInfo
from synckit import Synced

CASES = [
    ({"default_real_mode": "self_consumption"}, "mode", "self_consumption mode"),
    ({"default_real_mode": "backup"}, "mode", "backup mode"),
    ({"customer_preferred_export_rule": "pv_only"}, "export_rule", "export rule is pv_only"),
    ({"customer_preferred_export_rule": "never"}, "export_rule", "export rule is never"),
    (
        {"disallow_charge_from_grid_with_solar_installed": True},
        "grid_charging",
        "grid charging is off",
    ),
    ({"backup_reserve_percent": 100}, "reserve", "backup reserve is 100 %"),
]


def doctor_json(synced: Synced) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(synced.run("doctor", "--json").stdout)
    return data


@pytest.mark.parametrize(("settings", "key", "text"), CASES)
def test_each_setting_is_warned_everywhere(
    synced: Synced, settings: dict[str, Any], key: str, text: str
) -> None:
    synced.sandbox.set_energy_site(**settings)
    result = synced.sync()
    assert result.code == 0, result.stderr
    assert any(
        line.startswith("  warning: ") and text in line for line in result.stdout.splitlines()
    )
    assert text in result.stderr  # logged as a warning too (journald: <4>)
    site = synced.sync_json("--force")["sites"][0]
    assert [f["setting"] for f in site["powerwall"]] == [key]
    assert site["powerwall"][0]["fix"]
    status = synced.run("status", "--now", synced.now.isoformat())
    assert "warning: " in status.stdout and text in status.stdout
    status_json = synced.run("status", "--json", "--now", synced.now.isoformat()).stdout
    data = json.loads(status_json)["sites"][0]
    assert [f["setting"] for f in data["powerwall_findings"]] == [key]
    checks = {c["name"]: c for c in doctor_json(synced)["checks"]}
    powerwall = checks[f"Powerwall ({synced.sandbox.amber_site_id})"]
    assert not powerwall["ok"] and text in powerwall["detail"] and powerwall["fix"]


def test_a_clean_site_has_no_findings(synced: Synced) -> None:
    site = synced.sync_json()["sites"][0]
    assert site["powerwall"] == []
    assert not [w for w in site["warnings"] if "Powerwall" in w]


def test_reserve_above_the_charge_is_seen_where_the_charge_is_known(synced: Synced) -> None:
    synced.sandbox.set_energy_site(backup_reserve_percent=80, soc_percent=40)
    assert synced.sync_json()["sites"][0]["powerwall"] == []  # sync reads no live_status
    out = synced.run("status", "--now", synced.now.isoformat()).stdout
    assert "the backup reserve (80 %) is above the charge" in out


def test_strategy_where_the_site_reports_it() -> None:
    """No read-back of optimization_strategy exists (the sandbox, like Tesla, reports none);
    where a site_info carries it, it is checked."""
    balanced = SiteInfo.parse({"tou_settings": {"optimization_strategy": "balanced"}})
    assert [f.key for f in findings(balanced)] == ["strategy"]
    assert findings(SiteInfo.parse({"tou_settings": {"optimization_strategy": "economics"}})) == []
    assert findings(SiteInfo.parse({})) == []


def test_curtailment_owns_the_export_rule(synced: Synced) -> None:
    ours = SiteInfo.parse({"components": {"customer_preferred_export_rule": "never"}})
    assert findings(ours, curtailing=True) == []
    assert [f.key for f in findings(ours)] == ["export_rule"]


def test_a_warning_is_remembered_between_checks(synced: Synced) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="never")
    assert synced.sync().code == 0
    synced.advance(5)
    synced.sandbox.clear_requests()
    later = synced.sync()
    assert synced.tesla_requests() == []  # no site_info read in this run
    assert "export rule is never" in later.stdout and "(at the last check)" in later.stdout


def add_sync_option(synced: Synced, line: str) -> None:
    synced.site.config.write_text(synced.site.config.read_text() + f"\n[sync]\n{line}\n")


def set_sync_option(synced: Synced, old: str, new: str) -> None:
    text = synced.site.config.read_text()
    assert old in text
    synced.site.config.write_text(text.replace(old, new))


def test_ensure_battery_export_sets_it_and_restores_the_owners_rule(synced: Synced) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    add_sync_option(synced, "ensure_battery_export = true")
    site = synced.sync_json()["sites"][0]
    assert "export rule pv_only → battery_ok" in site["actions"]
    assert site["powerwall"] == []
    assert synced.sandbox.energy_site_settings()["customer_preferred_export_rule"] == "battery_ok"
    state = json.loads((synced.site.state / "state.json").read_text())
    overrides = next(iter(state["sync"].values()))["overrides"]
    assert overrides["owner_export_rule"] == "pv_only"
    set_sync_option(synced, "ensure_battery_export = true", "ensure_battery_export = false")
    synced.advance(5)  # the restore does not wait for the hourly check
    site = synced.sync_json()["sites"][0]
    assert any("restoring your export rule pv_only" in a for a in site["actions"])
    assert synced.sandbox.energy_site_settings()["customer_preferred_export_rule"] == "pv_only"
    assert [f["setting"] for f in site["powerwall"]] == ["export_rule"]


def test_ensure_autonomous_restores_the_owners_mode(synced: Synced) -> None:
    synced.sandbox.set_energy_site(default_real_mode="self_consumption")
    add_sync_option(synced, "ensure_autonomous = true")
    assert "mode self_consumption → autonomous" in synced.sync_json()["sites"][0]["actions"]
    set_sync_option(synced, "ensure_autonomous = true", "ensure_autonomous = false")
    synced.advance(5)
    site = synced.sync_json()["sites"][0]
    assert any("restoring your mode self_consumption" in a for a in site["actions"])
    assert synced.sandbox.energy_site_settings()["default_real_mode"] == "self_consumption"


def test_an_owner_change_meanwhile_is_kept(synced: Synced) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="never")
    add_sync_option(synced, "ensure_battery_export = true")
    assert synced.sync().code == 0
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")  # the owner, later
    set_sync_option(synced, "ensure_battery_export = true", "ensure_battery_export = false")
    synced.advance(5)
    site = synced.sync_json()["sites"][0]
    assert not any("restoring" in a for a in site["actions"])
    assert synced.sandbox.energy_site_settings()["customer_preferred_export_rule"] == "pv_only"


def test_the_reserve_is_never_changed(synced: Synced) -> None:
    synced.sandbox.set_energy_site(backup_reserve_percent=100, default_real_mode="backup")
    add_sync_option(synced, "ensure_autonomous = true\nensure_battery_export = true")
    assert synced.sync().code == 0
    assert synced.sandbox.energy_site_settings()["backup_reserve_percent"] == 100
    assert not [r for r in synced.tesla_requests() if r["path"].endswith("/backup")]


def test_dry_run_only_says_what_it_would_change(synced: Synced) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="never")
    add_sync_option(synced, "ensure_battery_export = true")
    site = synced.sync_json("--dry-run")["sites"][0]
    assert "would change export rule never → battery_ok" in site["actions"]
    assert synced.sandbox.energy_site_settings()["customer_preferred_export_rule"] == "never"

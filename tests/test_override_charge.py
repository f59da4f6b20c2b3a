"""`override charge`: started at once (reserve, grid charging, the window's slots at 0: the
battery charges), kept by the syncs in the window, undone by the first sync after its end (every
setting restored, the tariff of the prices pushed), a failed restore sent again, and the owner's
hand change during it kept."""

from __future__ import annotations

from typing import Any

from amber_tesla_sync.errors import ExitCode
from overridekit import live, override, posts, powerwall, sync_state
from receiverkit import Receiver
from synckit import Synced

WINDOW = ["PERIOD_16_30", "PERIOD_17_00", "PERIOD_17_30", "PERIOD_18_00"]  # 16:42 + 90 min


def started(synced: Synced) -> dict[str, Any]:
    synced.sandbox.set_energy_site(disallow_charge_from_grid_with_solar_installed=True)
    synced.sandbox.app.energy_site.battery.set_soc(40)
    doc = override(synced, "charge", "--for", "90m")
    assert doc["_code"] == 0, doc
    return doc


def test_charge_starts_at_once_is_kept_in_its_window_and_undoes_itself(synced: Synced) -> None:
    doc = started(synced)
    assert doc["started"] is True
    assert doc["override"]["changes"] == ["backup reserve 20 % → 100 %", "grid charging off → on"]
    assert doc["override"]["tariff_slots"] == ["16:30", "17:00", "17:30", "18:00"]
    assert doc["override"]["owner_values"] == {"backup_reserve": "20", "grid_charging": "off"}
    assert doc["sites"][0]["pushed"] is True
    assert doc["sites"][0]["warnings"] == []  # the reserve at 100 % is the override's, no finding
    wall = powerwall(synced)
    assert (wall["backup_reserve"], wall["grid_charging"]) == (100, False)
    rates = synced.stored_rates()
    assert [rates[label] for label in WINDOW] == [0.0] * 4
    assert all(rate > 0 for label, rate in rates.items() if label not in WINDOW)
    synced.advance(10)
    assert live(synced)["battery_power"] < 0  # charging (from the grid: no sun to spare)
    assert live(synced)["grid_power"] > 0

    # in force: a sync in the window keeps it (the settings untouched, the window's slots at 0;
    # 16:30 is tomorrow's slot now, priced again)
    synced.advance(20)
    synced.sandbox.clear_requests()
    during = synced.sync_json()
    assert during["_code"] == 0, during
    assert [r for r in posts(synced) if not r["path"].endswith("time_of_use_settings")] == []
    assert powerwall(synced)["backup_reserve"] == 100
    rates = synced.stored_rates()
    assert [rates[label] for label in WINDOW[1:]] == [0.0] * 3
    assert rates[WINDOW[0]] > 0

    # ended: every setting restored, the tariff of the prices pushed
    synced.advance(70)
    synced.sandbox.clear_requests()
    after = synced.sync_json()
    assert after["_code"] == 0, after
    site = after["sites"][0]
    assert site["pushed"] is True
    assert site["reason"] == "an override ended: the tariff of the prices again"
    assert "the charge override ended: restoring your backup reserve 20" in site["actions"]
    wall = powerwall(synced)
    assert (wall["backup_reserve"], wall["grid_charging"]) == (20, True)
    assert all(rate > 0 for rate in synced.stored_rates().values())
    state = sync_state(synced)
    assert state["restores"] == {}
    assert state["manual"][0]["ended_at"] is not None
    synced.advance(5)
    synced.sandbox.clear_requests()
    assert synced.sync().code == 0
    assert [r for r in posts(synced) if not r["path"].endswith("time_of_use_settings")] == []


def test_a_restore_failing_after_the_end_is_sent_again_and_nothing_is_lost(
    synced: Synced,
) -> None:
    started(synced)
    synced.advance(95)
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/backup"
    synced.sandbox.add_fault(path, "status", status=503, count=3)
    failed = synced.sync_json()
    assert failed["_code"] == ExitCode.SERVICE
    assert powerwall(synced)["backup_reserve"] == 100
    assert powerwall(synced)["grid_charging"] is True  # the other one went back
    kept = sync_state(synced)["restores"]
    assert list(kept) == ["backup_reserve"]
    assert (kept["backup_reserve"]["value"], kept["backup_reserve"]["attempts"]) == ("20", 1)
    assert any("backup reserve 20 is not restored yet" in w for w in failed["sites"][0]["warnings"])
    status = synced.run("status", "--now", synced.now.isoformat())
    assert "backup reserve 20 is not restored yet" in status.stdout

    synced.advance(5)
    again = synced.sync_json()
    assert again["_code"] == 0, again
    assert powerwall(synced)["backup_reserve"] == 20
    assert sync_state(synced)["restores"] == {}


def test_the_owners_hand_change_during_the_override_wins(synced: Synced) -> None:
    started(synced)
    synced.advance(30)
    synced.sandbox.set_energy_site(backup_reserve_percent=50)  # set in the Tesla app
    synced.advance(65)
    after = synced.sync_json()
    assert after["_code"] == 0, after
    assert powerwall(synced)["backup_reserve"] == 50
    assert any("set by hand" in action for action in after["sites"][0]["actions"])
    assert sync_state(synced)["restores"] == {}


def test_a_failing_restore_is_told_once_and_its_settling_too(
    synced: Synced, receiver: Receiver
) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text() + f'\n[notify]\nurls = ["{receiver.notify_url()}"]\n'
    )
    started(synced)
    synced.advance(95)
    receiver.clear()
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/backup"
    synced.sandbox.add_fault(path, "status", status=503, count=6)
    for _ in range(2):
        assert synced.sync().code == ExitCode.SERVICE
        synced.advance(5)
    # (the owner's grid charging is off again: that the tariff cannot work fully is told apart)
    told = [m for m in receiver.messages() if "cannot follow" not in m["title"]]
    assert len(told) == 1, told
    assert "not restored yet" in told[0]["title"]
    assert "backup reserve 20" in told[0]["message"]
    assert synced.sync().code == 0
    told = [m for m in receiver.messages() if "cannot follow" not in m["title"]]
    assert len(told) == 2 and told[1]["title"].endswith("settled"), told

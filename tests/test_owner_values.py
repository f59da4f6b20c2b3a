"""Design rule 12, a value the owner had is never lost: every Powerwall setting this tool changes
is restored from a record in the state that is cleared only once Tesla accepted the restore; a
failed restore is retried on every run (told once, shown by ``status``), a value the owner set by
hand meanwhile wins, and a state file of the previous version keeps its saved values."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.store.state import Curtailment
from amber_tesla_sync.sync import curtail
from receiverkit import Receiver
from synckit import Synced, shifted

NOW_SLOT = dt.datetime(2026, 1, 15, 5, 30, tzinfo=dt.UTC)
COMMANDS = {"export_rule": "grid_import_export", "mode": "operation"}
# curtailment on, changing as soon as the price crosses zero (the hysteresis has its own tests)
CURTAIL_NOW = ("curtail_exports = true", "curtail_dwell_minutes = 0", "restore_below_cents = 0")
FIELDS = {"export_rule": "customer_preferred_export_rule", "mode": "default_real_mode"}


def add_sync_options(synced: Synced, *lines: str) -> None:
    text = synced.site.config.read_text() + "\n[sync]\n" + "\n".join(lines) + "\n"
    synced.site.config.write_text(text)


def set_sync_option(synced: Synced, old: str, new: str) -> None:
    text = synced.site.config.read_text()
    assert old in text
    synced.site.config.write_text(text.replace(old, new))


def costly(synced: Synced) -> list[dict[str, Any]]:
    """Prices where exporting now costs the customer money (feed-in perKwh > 0)."""
    return shifted(synced.amber_prices(), "feedIn", NOW_SLOT, 80.0)


def setting(synced: Synced, key: str) -> str:
    value: str = synced.sandbox.energy_site_settings()[FIELDS[key]]
    return value


def break_command(synced: Synced, key: str, runs: int = 1) -> None:
    """Tesla answers 503 to every attempt at the command (3 attempts a run)."""
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/{COMMANDS[key]}"
    synced.sandbox.add_fault(path, "status", status=503, count=3 * runs)


def commands(synced: Synced, key: str) -> list[dict[str, Any]]:
    return [r for r in synced.tesla_requests() if r["path"].endswith(f"/{COMMANDS[key]}")]


def sync_state(synced: Synced) -> dict[str, Any]:
    state = json.loads((synced.site.state / "state.json").read_text())
    site: dict[str, Any] = next(iter(state["sync"].values()))
    return site


def status(synced: Synced) -> str:
    result = synced.run("status", "--now", synced.now.isoformat())
    assert result.code == 0, result.stderr
    return result.stdout


# each way this tool changes a setting, up to the moment the owner's value is due back:
# (the setting, the owner's value, what the tool set)


def curtailment_over(synced: Synced) -> None:
    add_sync_options(synced, *CURTAIL_NOW)
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    assert setting(synced, "export_rule") == "never"
    synced.advance(5)  # the sandbox's own prices from here: feed-in pays again


def ensure_autonomous_off(synced: Synced) -> None:
    synced.sandbox.set_energy_site(default_real_mode="self_consumption")
    add_sync_options(synced, "ensure_autonomous = true")
    assert synced.sync().code == 0
    assert setting(synced, "mode") == "autonomous"
    set_sync_option(synced, "ensure_autonomous = true", "ensure_autonomous = false")
    synced.advance(5)


def ensure_battery_export_off(synced: Synced) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    add_sync_options(synced, "ensure_battery_export = true")
    assert synced.sync().code == 0
    assert setting(synced, "export_rule") == "battery_ok"
    set_sync_option(synced, "ensure_battery_export = true", "ensure_battery_export = false")
    synced.advance(5)


CHANGES = [
    pytest.param(curtailment_over, "export_rule", "pv_only", "never", id="curtailment"),
    pytest.param(ensure_autonomous_off, "mode", "self_consumption", "autonomous", id="mode"),
    pytest.param(ensure_battery_export_off, "export_rule", "pv_only", "battery_ok", id="export"),
]


@pytest.mark.parametrize(("change", "key", "owners", "ours"), CHANGES)
def test_a_failed_restore_is_sent_again_on_the_next_run(
    synced: Synced, change: Callable[[Synced], None], key: str, owners: str, ours: str
) -> None:
    change(synced)
    label = key.replace("_", " ")
    break_command(synced, key)
    failed = synced.sync()
    assert failed.code == ExitCode.SERVICE
    assert setting(synced, key) == ours
    kept = sync_state(synced).get("restores", {}).get(key)

    synced.advance(5)
    synced.sandbox.clear_requests()
    again = synced.sync_json()
    assert again["_code"] == 0, again
    assert setting(synced, key) == owners
    assert len(commands(synced, key)) == 1
    assert kept is not None
    assert (kept["value"], kept["ours"], kept["attempts"]) == (owners, ours, 1)
    assert f"error: restoring your {label} {owners} failed" in failed.stdout
    assert "what to do: every sync sends it again" in failed.stdout
    assert f"warning: your {label} {owners} is not restored yet" in failed.stdout
    assert f"restoring your {label} {owners} again" in again["sites"][0]["actions"][0]
    assert sync_state(synced)["restores"] == {}
    assert "not restored" not in status(synced)
    synced.advance(5)
    synced.sandbox.clear_requests()
    assert synced.sync().code == 0
    assert commands(synced, key) == []  # settled: never sent again


def test_a_restore_failing_for_hours_is_tried_every_run_told_once_and_shown(
    synced: Synced, receiver: Receiver
) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text() + f'\n[notify]\nurls = ["{receiver.notify_url()}"]\n'
    )
    curtailment_over(synced)
    receiver.clear()
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/grid_import_export"
    synced.sandbox.add_fault(path, "status", status=503, count=10_000)
    for run in range(10):  # every 20 minutes for 3 hours
        synced.sandbox.clear_requests()
        result = synced.sync()
        assert len(commands(synced, "export_rule")) == 3, run  # sent (3 attempts) every run
        assert setting(synced, "export_rule") == "never"
        assert result.code == ExitCode.SERVICE, result.stdout
        assert "what to do:" in result.stdout and "Tesla app" in result.stdout
        if run < 9:
            synced.advance(20)
    assert sync_state(synced)["restores"]["export_rule"]["attempts"] == 10
    told = receiver.messages()
    assert len(told) == 1, told
    assert "not restored yet" in told[0]["title"] and "pv_only" in told[0]["message"]
    assert not any("is failing" in message["title"] for message in told)
    shown = status(synced)
    line = next(line for line in shown.splitlines() if "not restored yet" in line)
    assert line.startswith("warning: your export rule pv_only is not restored yet for 3 h 0 min")
    assert "export rule is never" not in shown  # one warning for it, not a finding as well

    synced.sandbox.clear_faults()
    synced.advance(5)
    assert synced.sync().code == 0
    assert setting(synced, "export_rule") == "pv_only"
    told = [m for m in receiver.messages() if "cannot follow" not in m["title"]]  # pv_only's
    assert len(told) == 2 and "export rule on" in told[1]["title"], told
    assert told[1]["title"].endswith("settled") and told[1]["type"] == "success"
    assert "not restored" not in status(synced)
    synced.advance(5)
    receiver.clear()
    assert synced.sync().code == 0
    assert receiver.messages() == []


def test_a_state_file_of_the_previous_version_keeps_the_owners_values(synced: Synced) -> None:
    """state.json as the previous version wrote it (no ``restores``), curtailing and with the
    owner's mode saved by ``ensure_autonomous``: both values survive failed restores."""
    assert synced.sync().code == 0  # the caches (zone, interval) as any earlier run left them
    state_file = synced.site.state / "state.json"
    state = json.loads(state_file.read_text())
    key = next(iter(state["sync"]))
    old = {
        field: value for field, value in state["sync"][key].items() if field not in ("restores",)
    }
    old["curtailment"] = {
        "active": True,
        "user_rule": "pv_only",
        "our_rule": "never",
        "since": "2026-01-15T04:00:00Z",
        "confirmed": True,
    }
    old["overrides"] = {"owner_mode": "self_consumption", "owner_export_rule": None}
    state["sync"][key] = old
    state_file.write_text(json.dumps(state, indent=1))
    synced.sandbox.set_energy_site(
        customer_preferred_export_rule="never", default_real_mode="autonomous"
    )
    add_sync_options(synced, *CURTAIL_NOW, "ensure_autonomous = false")

    synced.advance(5)
    break_command(synced, "export_rule")
    break_command(synced, "mode")
    assert synced.sync().code == ExitCode.SERVICE
    restores = sync_state(synced).get("restores", {})
    assert setting(synced, "mode") == "autonomous" and setting(synced, "export_rule") == "never"

    synced.advance(5)
    assert synced.sync().code == 0
    assert setting(synced, "mode") == "self_consumption"
    assert setting(synced, "export_rule") == "pv_only"
    assert sync_state(synced)["restores"] == {}
    assert {k: v["value"] for k, v in restores.items()} == {
        "mode": "self_consumption",
        "export_rule": "pv_only",
    }


@pytest.mark.parametrize(
    ("change", "key", "owners", "ours", "by_hand"),
    [
        pytest.param(curtailment_over, "export_rule", "pv_only", "never", "battery_ok", id="rule"),
        pytest.param(
            ensure_autonomous_off, "mode", "self_consumption", "autonomous", "backup", id="mode"
        ),
    ],
)
def test_the_owner_setting_it_by_hand_meanwhile_wins(
    synced: Synced,
    change: Callable[[Synced], None],
    key: str,
    owners: str,
    ours: str,
    by_hand: str,
) -> None:
    change(synced)
    break_command(synced, key)
    failed = synced.sync()
    assert failed.code == ExitCode.SERVICE
    assert "is not restored yet" in failed.stdout
    assert "not restored yet" in status(synced)

    synced.sandbox.set_energy_site(**{FIELDS[key]: by_hand})  # the owner, in the Tesla app
    synced.advance(5)
    synced.sandbox.clear_requests()
    site = synced.sync_json()["sites"][0]
    assert commands(synced, key) == []  # nothing overwritten
    assert setting(synced, key) == by_hand
    assert any(f"is {by_hand} now (set by hand)" in action for action in site["actions"])
    assert sync_state(synced)["restores"] == {}
    assert "not restored" not in status(synced)
    synced.advance(5)
    assert synced.sync().code == 0
    assert setting(synced, key) == by_hand


def test_curtailing_again_while_the_rule_is_owed_keeps_the_owners_rule() -> None:
    """Feed-in costs money again before Tesla took the owner's rule back: the owed rule, not
    the tool's own ``never`` on the Powerwall, is the baseline restored later."""
    now = dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.UTC)
    step = curtail.step(True, 12.0, Curtailment(), "never", "never", now, owed="pv_only")
    assert step.adopted and step.send_rule == "never"
    assert (step.state.active, step.state.user_rule) == (True, "pv_only")
    assert curtail.step(True, 12.0, Curtailment(), "never", "never", now).send_rule is None

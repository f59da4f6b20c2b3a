"""Export curtailment: on while exporting costs money, the user's rule restored afterwards,
also after a failure or a crash in between; never taking our own rule for the user's."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from amber_tesla_sync.errors import ExitCode
from synckit import Synced, shifted

NOW_SLOT = dt.datetime(2026, 1, 15, 5, 30, tzinfo=dt.UTC)


def enable(synced: Synced, rule: str = "never") -> None:
    text = (
        synced.site.config.read_text()
        + f'\n[sync]\ncurtail_exports = true\ncurtail_rule = "{rule}"\n'
        # changing as soon as the price crosses zero (the hysteresis has its own tests)
        + "curtail_dwell_minutes = 0\nrestore_below_cents = 0\n"
    )
    synced.site.config.write_text(text)


def costly(synced: Synced) -> list[dict[str, Any]]:
    """Prices where exporting now costs the customer money (feed-in perKwh > 0)."""
    return shifted(synced.amber_prices(), "feedIn", NOW_SLOT, 80.0)


def export_rule(synced: Synced) -> str:
    rule: str = synced.sandbox.energy_site_settings()["customer_preferred_export_rule"]
    return rule


def saved(synced: Synced) -> dict[str, Any]:
    state = json.loads((synced.site.state / "state.json").read_text())
    curtailment: dict[str, Any] = next(iter(state["sync"].values()))["curtailment"]
    return curtailment


def test_curtails_while_costly_and_restores_the_users_rule(synced: Synced) -> None:
    enable(synced)
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    synced.serve_prices(costly(synced))
    result = synced.sync_json()["sites"][0]
    assert export_rule(synced) == "never"
    assert any("export rule pv_only → never" in action for action in result["actions"])
    assert saved(synced)["user_rule"] == "pv_only"
    assert saved(synced)["confirmed"] is True

    synced.advance(5)
    synced.serve_prices(costly(synced))
    synced.sandbox.clear_requests()
    assert synced.sync().code == 0
    assert [r for r in synced.tesla_requests() if "grid_import_export" in r["path"]] == []

    synced.advance(5)
    recovered = synced.sync_json()["sites"][0]  # the sandbox's own prices: feed-in pays again
    assert export_rule(synced) == "pv_only"
    assert any("restoring the export rule pv_only" in action for action in recovered["actions"])
    assert saved(synced)["active"] is False


def test_a_failed_change_is_sent_again_and_the_baseline_kept(synced: Synced) -> None:
    enable(synced)
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/grid_import_export"
    synced.sandbox.add_fault(path, "drop", count=5)
    synced.serve_prices(costly(synced))
    failed = synced.sync()
    assert failed.code == ExitCode.SERVICE
    assert export_rule(synced) == "battery_ok"
    assert saved(synced) | {"since": None} == {
        "active": True,
        "user_rule": "battery_ok",
        "our_rule": "never",
        "since": None,
        "confirmed": False,
    }
    synced.sandbox.clear_faults()
    synced.advance(5)
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    assert export_rule(synced) == "never"
    assert saved(synced)["user_rule"] == "battery_ok"
    synced.advance(5)
    assert synced.sync().code == 0
    assert export_rule(synced) == "battery_ok"


def test_a_crash_after_the_change_does_not_adopt_our_rule(synced: Synced) -> None:
    """Crash between sending `never` and recording success: the next runs still restore the
    user's rule, not `never`."""
    enable(synced)
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    state_file = synced.site.state / "state.json"
    state = json.loads(state_file.read_text())
    next(iter(state["sync"].values()))["curtailment"]["confirmed"] = False  # as if it crashed
    state_file.write_text(json.dumps(state))
    synced.advance(5)
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    assert saved(synced)["user_rule"] == "battery_ok"
    synced.advance(5)
    assert synced.sync().code == 0
    assert export_rule(synced) == "battery_ok"


def test_lost_state_never_records_our_rule_as_the_users(synced: Synced) -> None:
    enable(synced)
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    (synced.site.state / "state.json").unlink()  # the state is lost while curtailing
    synced.advance(61)
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    assert saved(synced)["active"] is False
    assert saved(synced)["user_rule"] is None
    assert export_rule(synced) == "never"  # left alone: the baseline is unknown


def test_off_by_default(synced: Synced) -> None:
    synced.serve_prices(costly(synced))
    assert synced.sync().code == 0
    assert export_rule(synced) == "battery_ok"

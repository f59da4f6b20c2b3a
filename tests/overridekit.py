"""Helpers for the override tests: start, list and clear overrides against the sandbox."""

from __future__ import annotations

import json
from typing import Any

from synckit import Synced

SETTINGS = {
    "backup_reserve": "backup_reserve_percent",
    "grid_charging": "disallow_charge_from_grid_with_solar_installed",
    "export_rule": "customer_preferred_export_rule",
    "mode": "default_real_mode",
}


def override(synced: Synced, *args: str) -> dict[str, Any]:
    """`override ARGS --json` at the harness's time: the document, with its exit code."""
    result = synced.run("override", *args, "--json", "--now", synced.now.isoformat())
    body: dict[str, Any] = json.loads(result.stdout) if result.stdout.strip() else {}
    body["_code"], body["_stderr"] = result.code, result.stderr
    return body


def powerwall(synced: Synced) -> dict[str, Any]:
    """The sandbox Powerwall's settings (reserve, grid charging disallowed, export rule, mode)."""
    settings = synced.sandbox.energy_site_settings()
    return {key: settings[field] for key, field in SETTINGS.items()}


def live(synced: Synced) -> dict[str, Any]:
    """The sandbox's live_status now (its battery model: battery_power < 0 while charging)."""
    app = synced.sandbox.app
    with app.lock:
        body: dict[str, Any] = app.energy_site.live_status(app.now())
    return body


def posts(synced: Synced) -> list[dict[str, Any]]:
    """The Tesla writes (POSTs) since the request log was cleared."""
    return [r for r in synced.tesla_requests() if r["method"] == "POST"]


def sync_state(synced: Synced) -> dict[str, Any]:
    state = json.loads((synced.site.state / "state.json").read_text())
    site: dict[str, Any] = next(iter(state["sync"].values()))
    return site


def sell_rates(synced: Synced) -> dict[str, float]:
    tariff = synced.sandbox.stored_tariff()
    rates: dict[str, float] = tariff["sell_tariff"]["energy_charges"]["Summer"]["rates"]
    return rates

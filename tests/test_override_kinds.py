"""`override export`, `hold` and `pause` against the sandbox: what each sets, what the battery
does, that syncs in the window keep it, and that the first sync after the end undoes it. An export
override suspends curtailment, and the owner's export rule saved by curtailment is the one
restored."""

from __future__ import annotations

import datetime as dt

from overridekit import live, override, posts, powerwall, sell_rates, sync_state
from synckit import Synced, flat, shifted

NOW_SLOT = dt.datetime(2026, 1, 15, 5, 30, tzinfo=dt.UTC)
CURTAIL_NOW = ("curtail_exports = true", "curtail_dwell_minutes = 0", "restore_below_cents = 0")


def add_sync_options(synced: Synced, *lines: str) -> None:
    text = synced.site.config.read_text() + "\n[sync]\n" + "\n".join(lines) + "\n"
    synced.site.config.write_text(text)


def test_export_sells_above_every_buy_price_and_undoes_itself(synced: Synced) -> None:
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    doc = override(synced, "export", "--for", "1h")
    assert doc["_code"] == 0, doc
    assert doc["override"]["changes"] == ["export rule pv_only → battery_ok"]
    assert doc["override"]["tariff_slots"] == ["16:30", "17:00", "17:30"]
    assert powerwall(synced)["export_rule"] == "battery_ok"
    buys = synced.stored_rates()
    sells = sell_rates(synced)
    window = ["PERIOD_16_30", "PERIOD_17_00", "PERIOD_17_30"]
    outside = max(rate for label, rate in buys.items() if label not in window)
    assert [sells[label] for label in window] == [buys[label] for label in window]
    assert sells[window[0]] > sells[window[1]] > sells[window[2]] > outside
    assert all(sells[label] <= buys[label] for label in sells)
    synced.advance(5)
    assert live(synced)["battery_power"] > 0  # discharging, exporting
    assert live(synced)["grid_power"] < 0

    synced.advance(60)
    after = synced.sync_json()
    assert after["_code"] == 0, after
    assert powerwall(synced)["export_rule"] == "pv_only"
    sells, buys = sell_rates(synced), synced.stored_rates()
    assert all(sells[label] <= buys[label] for label in sells)


def test_an_export_override_suspends_curtailment_and_restores_the_owners_rule(
    synced: Synced,
) -> None:
    add_sync_options(synced, *CURTAIL_NOW)
    synced.sandbox.set_energy_site(customer_preferred_export_rule="pv_only")
    costly = shifted(synced.amber_prices(), "feedIn", NOW_SLOT, 80.0)
    synced.serve_prices(costly)
    assert synced.sync().code == 0
    assert powerwall(synced)["export_rule"] == "never"  # curtailing, pv_only saved

    synced.advance(2)
    synced.serve_prices(costly)
    doc = override(synced, "export", "--for", "40m")
    assert doc["_code"] == 0, doc
    assert doc["override"]["owner_values"] == {"export_rule": "pv_only"}  # not curtailment's
    assert doc["override"]["changes"] == ["export rule never → battery_ok"]
    state = sync_state(synced)
    assert state["curtailment"]["active"] is False
    synced.advance(2)
    synced.serve_prices(costly)
    during = synced.sync_json()
    assert during["_code"] == 0, during
    assert powerwall(synced)["export_rule"] == "battery_ok"  # curtailment suspended

    synced.advance(40)
    after = synced.sync_json()  # the sandbox's own prices: feed-in pays
    assert after["_code"] == 0, after
    assert powerwall(synced)["export_rule"] == "pv_only"
    assert sync_state(synced)["restores"] == {}


def test_hold_keeps_the_charge_now_and_leaves_the_tariff(synced: Synced) -> None:
    synced.sandbox.app.energy_site.battery.set_soc(55.6)
    doc = override(synced, "hold", "--until", "20:00")
    assert doc["_code"] == 0, doc
    assert doc["override"]["percent"] == 55
    assert doc["override"]["changes"] == ["backup reserve 20 % → 55 %"]
    assert doc["override"]["tariff_slots"] == []
    assert powerwall(synced)["backup_reserve"] == 55
    assert all(rate > 0 for rate in synced.stored_rates().values())  # the tariff of the prices
    synced.advance(60)
    assert live(synced)["percentage_charged"] >= 55 - 0.01  # it never went below the floor
    synced.advance(140)
    after = synced.sync_json()
    assert after["_code"] == 0, after
    assert powerwall(synced)["backup_reserve"] == 20


def test_pause_writes_nothing_across_a_price_change_and_shows_everywhere(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.advance(3)
    synced.sandbox.clear_requests()
    doc = override(synced, "pause", "--for", "2h")
    assert doc["_code"] == 0, doc
    assert doc["sites"][0]["paused"] is True
    assert posts(synced) == []

    synced.advance(30)
    synced.serve_prices(flat(synced.amber_prices(), buy=90.0, feed_in=-60.0))
    synced.sandbox.clear_requests()
    during = synced.sync_json()
    assert during["_code"] == 0, during
    assert posts(synced) == []
    assert during["sites"][0]["paused"] is True
    assert "paused by the owner" in during["sites"][0]["reason"]
    text = synced.sync()
    assert "paused by the owner" in text.stdout
    status = synced.run("status", "--now", synced.now.isoformat())
    assert "paused by the owner until" in status.stdout
    listed = override(synced, "list")
    assert [(o["kind"], o["state"]) for o in listed["overrides"]] == [("pause", "in force")]

    synced.advance(91)
    synced.sandbox.clear_requests()
    after = synced.sync_json()
    assert after["_code"] == 0, after
    assert after["sites"][0]["paused"] is False
    assert len(synced.sandbox.tariff_posts()) == 2  # the prices' tariff, once the pause is over

"""The figures a sync publishes, without a broker: Amber's price now, the tariff's half-hours, the
MQTT payloads and the Home Assistant discovery configs (checked against Home Assistant's
documented rules, see hakit), ids that never change."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import parse_intervals
from amber_tesla_sync.publish.figures import (
    OUTCOMES,
    PowerwallSeen,
    RunFigures,
    SiteFigures,
    TeslaRequests,
    amber_now,
    short,
    tariff_slots,
)
from amber_tesla_sync.publish.topics import (
    SENSORS,
    discovery_config,
    discovery_topic,
    messages,
    node_id,
    state_payload,
    state_topic,
)
from amber_tesla_sync.sync.outcome import Outcome
from hakit import problems
from payloads import interval, site_payload

README = Path(__file__).resolve().parents[1] / "README.md"
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = dt.datetime(2026, 1, 15, 5, 42, 10, tzinfo=dt.UTC)  # 16:42 in Sydney
# the state payload's fields, as the README documents them
DOCUMENTED = {
    "site",
    "amber_site_id",
    "energy_site_id",
    "price_unit",
    "buy_price",
    "sell_price",
    "descriptor",
    "renewables",
    "spike",
    "interval_start",
    "interval_end",
    "tariff_buy_now",
    "tariff_sell_now",
    "tariff_buy_next",
    "tariff_sell_next",
    "tariff_pushed_at",
    "tariff_verified",
    "outcome",
    "outcome_at",
    "reason",
    "exit_code",
    "refusal",
    "refusing_since",
    "last_success_at",
    "powerwall",
    "overrides",
}


def rates() -> dict[str, tuple[float, float]]:
    """A tariff whose buy price is its half-hour's number (00:00 → 0.00, 16:30 → 0.33)."""
    return {
        f"{h:02d}:{m:02d}": (round((h * 2 + m // 30) / 100, 4), 0.05)
        for h in range(24)
        for m in (0, 30)
    }


def figures(**changes: Any) -> SiteFigures:
    base: dict[str, Any] = {
        "key": "home",
        "name": "home",
        "amber_site_id": "01J23BAP2SFA218BMV8A73Y9Z9",
        "energy_site_id": 1234567890123,
        "outcome": "verified",
        "outcome_at": NOW.astimezone(SYDNEY),
        "reason": "pushed: first tariff",
        "exit_code": 0,
        "last_success_at": NOW,
        "amber": amber_now(parse_intervals(site_payload(NOW, hours_back=1)), NOW),
        "tariff": tariff_slots(rates(), SYDNEY, NOW),
        "tariff_pushed_at": NOW,
        "tariff_verified": True,
        "powerwall": PowerwallSeen(NOW, "autonomous", "battery_ok", 20.0),
    }
    base.update(changes)
    return SiteFigures(**base)


def test_amber_now_is_the_current_interval_in_dollars_sell_as_earned() -> None:
    start = dt.datetime(2026, 1, 15, 5, 40, tzinfo=dt.UTC)
    body = [
        interval(start - dt.timedelta(minutes=5), 99.0, kind="ActualInterval", duration=5),
        interval(start, 31.25, kind="CurrentInterval", duration=5, renewables=12.5),
        interval(start, -6.5, channel="feedIn", kind="CurrentInterval", duration=5),
        interval(start + dt.timedelta(minutes=5), 50.0, duration=5),
    ]
    body[1]["descriptor"] = "high"
    now = amber_now(parse_intervals(body), NOW)
    assert (now.buy, now.sell) == (0.3125, 0.065)  # paid 6.5 c/kWh to export: sell +0.065
    assert (now.descriptor, now.renewables, now.spike) == ("high", 12.5, "none")
    assert (now.start, now.end) == (start, start + dt.timedelta(minutes=5))
    # a negative buy price stays negative (the tariff clamps it; the owner wants to see it)
    body[1]["perKwh"] = -3.0
    assert amber_now(parse_intervals(body), NOW).buy == -0.03
    # nothing contains now: nothing known
    assert amber_now(parse_intervals(body[:1]), NOW).buy is None


def test_the_tariff_slots_run_24_hours_from_the_current_half_hour() -> None:
    slots = tariff_slots(rates(), SYDNEY, NOW)
    assert len(slots) == 48
    assert slots[0].label == "16:30" and slots[0].start <= NOW < slots[0].end
    assert slots[0].buy == 0.33 and slots[1].label == "17:00" and slots[1].buy == 0.34
    assert all(b.start == a.end for a, b in itertools.pairwise(slots))
    assert slots[-1].end - slots[0].start == dt.timedelta(hours=24)
    site = figures()
    assert site.tariff_now == slots[0] and site.tariff_next == slots[1]


def test_the_tariff_slots_across_the_end_of_daylight_saving() -> None:
    # Sydney, 5 April 2026: 03:00 AEDT becomes 02:00 AEST; 02:00 and 02:30 come twice
    now = dt.datetime(2026, 4, 4, 14, 5, tzinfo=dt.UTC)  # 01:05 AEDT
    slots = tariff_slots(rates(), SYDNEY, now)
    labels = [slot.label for slot in slots]
    assert len(slots) == 48 and labels[:6] == ["01:00", "01:30", "02:00", "02:30", "02:00", "02:30"]
    assert all(slot.end.timestamp() - slot.start.timestamp() == 1800 for slot in slots)
    # the second 02:00 is the one containing now, an hour after the first
    site = figures(tariff=slots, outcome_at=dt.datetime(2026, 4, 4, 16, 10, tzinfo=dt.UTC))
    assert site.tariff_now == slots[4] and site.tariff_next == slots[5]


def test_a_tariff_without_the_label_of_a_half_hour_leaves_it_out() -> None:
    partial = {label: rate for label, rate in rates().items() if label != "17:00"}
    site = figures(tariff=tariff_slots(partial, SYDNEY, NOW))
    assert len(site.tariff) == 47
    assert site.tariff_now is not None and site.tariff_next is None


def test_the_state_payload_holds_the_documented_fields() -> None:
    payload = state_payload(figures())
    assert set(payload) == DOCUMENTED
    assert payload["price_unit"] == "AUD/kWh"
    assert payload["buy_price"] == 0.25 and payload["sell_price"] == 0.08
    assert payload["tariff_buy_now"] == 0.33 and payload["tariff_buy_next"] == 0.34
    assert payload["outcome_at"] == "2026-01-15T16:42:10+11:00"
    assert payload["powerwall"] == {
        "read_at": NOW.isoformat(),
        "mode": "autonomous",
        "export_rule": "battery_ok",
        "reserve_percent": 20.0,
        "charge_percent": None,
    }
    assert payload["overrides"] == []
    json.dumps(payload)  # all of it is JSON


def test_a_long_refusal_fits_a_home_assistant_state() -> None:
    reason = "refused to build a tariff: " + "x" * 400
    payload = state_payload(figures(outcome="refused", refusal=reason, exit_code=5))
    assert len(payload["refusal"]) == 255 and payload["refusal"].endswith("…")
    assert short("short") == "short" and short(None) is None


def test_every_discovery_config_keeps_home_assistant_rules() -> None:
    site = figures()
    for sensor in SENSORS:
        topic = discovery_topic("homeassistant", site, sensor)
        config = discovery_config(site, sensor, "amber-tesla-sync", 900, "1.2.3")
        assert problems(topic, config, "homeassistant") == [], sensor.key
        assert config["expire_after"] == 900
        assert config["availability"] == [{"topic": "amber-tesla-sync/status"}]


def test_the_validator_catches_what_home_assistant_refuses() -> None:
    site = figures()
    config = discovery_config(site, SENSORS[0], "p", 900, "1")
    bad = [
        {**config, "device_class": "monetary", "state_class": "measurement"},
        {**config, "device_class": "monetary", "unit_of_measurement": "AUD/kWh"},
        {**config, "device_class": "timestamp"},  # with a unit and a state class
        {**config, "device_class": "enum"},  # without options
        {**config, "colour": "red"},
        {key: value for key, value in config.items() if key != "state_topic"},
        {**config, "device": {"name": "no identifiers"}},
    ]
    for config_ in bad:
        assert problems("homeassistant/sensor/a/b/config", config_, "homeassistant"), config_
    assert problems("homeassistant/sensor/a.b/c/config", config, "homeassistant")


def test_the_templates_read_fields_the_state_payload_has() -> None:
    payload = state_payload(figures())
    for sensor in SENSORS:
        for path in re.findall(r"value_json\.([a-z_.]+)", sensor.template):
            value: Any = payload
            for part in path.split("."):
                assert isinstance(value, dict) and part in value, (sensor.key, path)
                value = value[part]


def test_ids_and_topics_come_from_the_site_ids_only() -> None:
    site = figures()
    renamed = figures(key="beach house", name="NMI 4103", outcome="failed")
    ids = {discovery_config(site, s, "p", 1, "1")["unique_id"] for s in SENSORS}
    assert len(ids) == len(SENSORS)
    assert ids == {discovery_config(renamed, s, "p", 1, "2")["unique_id"] for s in SENSORS}
    assert node_id(site) == "amber_tesla_sync_01j23bap2sfa218bmv8a73y9z9_1234567890123"
    assert (
        state_topic("p", site) == state_topic("p", renamed) == "p/01J23BAP2SFA218BMV8A73Y9Z9/state"
    )
    other = figures(energy_site_id=42)
    assert node_id(other) != node_id(site)


def test_the_outcomes_are_the_syncs_outcomes_a_published_run_can_have() -> None:
    assert set(OUTCOMES) == {o.value for o in Outcome} - {Outcome.DRY_RUN.value}


def test_a_run_has_its_messages_retained_with_or_without_discovery() -> None:
    run = RunFigures(NOW, 1.5, 0, (figures(),))
    found = messages(run, "ats", "homeassistant", 900, "1")
    topics = [m.topic for m in found]
    assert len(found) == len(SENSORS) + 3 and all(m.retain for m in found)
    assert topics[-3:] == ["ats/status", f"ats/{figures().amber_site_id}/tariff", topics[-1]]
    tariff = json.loads(found[-2].payload)
    assert len(tariff["slots"]) == 48 and tariff["slots"][0]["buy"] == 0.33
    plain = messages(run, "ats", None, 900, "1")
    assert not [m for m in plain if m.topic.startswith("homeassistant/")] and len(plain) == 3


def test_the_fleet_cost_counts_fleet_requests_only() -> None:
    run = RunFigures(
        NOW,
        1.0,
        0,
        (),
        (TeslaRequests("fleet", reads=3, writes=1), TeslaRequests("teslemetry", 5, 2)),
    )
    assert run.fleet_dollars == 0.007


def readme_table(heading: str) -> list[str]:
    """The first column of the README table that starts with ``heading``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    rows = text[start : text.index("\n\n", start)].splitlines()[2:]
    return [row.split(" | ")[0].lstrip("| ") for row in rows]


def test_the_readme_documents_every_field_of_the_state_payload() -> None:
    named = set()
    for cell in readme_table("| field | meaning |"):
        named.update(re.findall(r"`([a-z_]+)`", cell))
    assert named == DOCUMENTED == set(state_payload(figures()))

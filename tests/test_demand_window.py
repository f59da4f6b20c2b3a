"""Demand windows in the folded tariff: Amber's marks, the settings' hours, the body's
``demand_charges``, the read-back comparison, the preview and a bad setting."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.tariff import build_request_body, validate_request_body
from amber_tesla_sync.tariff.body import period_name
from amber_tesla_sync.tariff.compare import differences
from amber_tesla_sync.tariff.demand import demand_of, describe, parse_window
from amber_tesla_sync.tariff.model import DemandOptions, TariffPlan
from conftest import CliRunner
from foldkit import plan_of
from payloads import site_payload, utc

SYDNEY = ZoneInfo("Australia/Sydney")
THURSDAY = utc("2026-01-15T16:42+11:00")  # a weekday afternoon in Sydney
FRIDAY_EVENING = utc("2026-01-16T22:10+11:00")  # the next 24 h run into Saturday
ZERO_TREE = {"ALL": {"rates": {"ALL": 0}}, "Summer": {}, "Winter": {}}
SAMPLE_BODY_SHA256 = "c828fefada2f970e835188e9ee4767c4c8c7d3c337bbe805196ff346f5e3f716"
"""sha256 of ``json.dumps`` of ``tariff --sample``'s ``tesla_request`` as built before demand
windows existed (recompute it so only when the fold itself is meant to change)."""


def labels(start: str, end: str) -> set[str]:
    """The half-hour labels from ``start`` up to ``end`` ("HH:MM"; across midnight allowed)."""
    first, last = parse_window(f"{start}-{end}")
    minutes = range(first, last) if first < last else [*range(first, 1440), *range(0, last)]
    return {f"{m // 60:02d}:{m % 60:02d}" for m in minutes if m % 30 == 0}


def marked(
    payload: list[dict[str, Any]], start_hour: int, end_hour: int, weekdays_only: bool = True
) -> list[dict[str, Any]]:
    """``payload`` with Amber's ``demandWindow`` marks on its general intervals (local hours)."""
    changed = copy.deepcopy(payload)
    for item in changed:
        if item["channelType"] != "general":
            continue
        end = dt.datetime.fromisoformat(item["endTime"])
        local = (end - dt.timedelta(minutes=item["duration"])).astimezone(SYDNEY)
        inside = start_hour <= local.hour < end_hour and (local.weekday() < 5 or not weekdays_only)
        item["tariffInformation"] = {"demandWindow": inside}
    return changed


def demand_rates(plan: TariffPlan) -> dict[str, float]:
    tariff = plan.body["tou_settings"]["tariff_content_v2"]
    rates: dict[str, float] = tariff["demand_charges"]["Summer"]["rates"]
    return rates


def in_window(plan: TariffPlan) -> set[str]:
    return {slot.label for slot in plan.slots if slot.demand_window}


def test_window_setting_forms_and_messages() -> None:
    assert parse_window("16:00-21:00") == (960, 1260)
    assert parse_window(" 16:00 \u2013 21:00 ") == (960, 1260)
    assert parse_window("22:00-02:00") == (1320, 120)
    assert parse_window("00:00-24:00") == (0, 1440)
    for text, words in (
        ("evening", "is not a window"),
        ("16:15-21:00", "16:15 is not on the half-hour"),
        ("16:00-25:00", "25:00 is not a time of day"),
        ("16:00-16:00", "is empty"),
        ("16-21", "is not a window"),
    ):
        with pytest.raises(ValueError, match=words) as raised:
            parse_window(text)
        assert "expected HH:MM-HH:MM" in str(raised.value)


def test_settings_hours_fill_the_window_when_amber_marks_none() -> None:
    payload = site_payload(THURSDAY, hours_back=2)
    options = DemandOptions(0.45, parse_window("16:00-21:00"))
    plan = plan_of(payload, "Australia/Sydney", THURSDAY, demand=options)
    assert plan.demand is not None and plan.demand.source == "settings"
    assert in_window(plan) == labels("16:00", "21:00")
    rates = demand_rates(plan)
    assert len(rates) == 48
    for label in labels("00:00", "24:00"):
        expected = 0.45 if label in labels("16:00", "21:00") else 0.0
        assert rates[period_name(label)] == expected, label
    assert describe(plan.demand) == "16:00\u201321:00"
    assert validate_request_body(plan.body) == []
    sell = plan.body["tou_settings"]["tariff_content_v2"]["sell_tariff"]
    assert sell["demand_charges"] == ZERO_TREE  # exports carry no demand charge


def test_weekdays_only_leaves_the_weekend_out_and_a_window_may_cross_midnight() -> None:
    payload = site_payload(FRIDAY_EVENING, hours_back=2)
    weekdays = DemandOptions(0.3, parse_window("16:00-21:00"), "weekdays")
    plan = plan_of(payload, "Australia/Sydney", FRIDAY_EVENING, demand=weekdays)
    # from Friday 22:00 the 16:00-21:00 slots are Saturday's: none is in the window
    assert in_window(plan) == set()
    assert plan.demand is not None and plan.demand.source == "settings"
    assert plan.body["tou_settings"]["tariff_content_v2"]["demand_charges"] == ZERO_TREE
    every_day = DemandOptions(0.3, parse_window("16:00-21:00"), "all")
    assert in_window(plan_of(payload, "Australia/Sydney", FRIDAY_EVENING, demand=every_day)) == (
        labels("16:00", "21:00")
    )
    night = DemandOptions(0.3, parse_window("21:30-01:00"), "weekdays")
    # Friday 22:00-24:00 is a weekday; Saturday 00:00-01:00 is not
    plan = plan_of(payload, "Australia/Sydney", FRIDAY_EVENING, demand=night)
    assert in_window(plan) == labels("22:00", "24:00")  # 21:30 is Saturday's, 22:00 on are today's


def test_amber_marks_win_over_the_setting() -> None:
    payload = marked(site_payload(THURSDAY, hours_back=24), 15, 21)
    options = DemandOptions(0.45, parse_window("17:00-19:00"))
    plan = plan_of(payload, "Australia/Sydney", THURSDAY, demand=options)
    assert plan.demand is not None and plan.demand.source == "amber"
    # today 16:30-21:00 (the current slot counts from now) and Friday 15:00-16:30
    assert in_window(plan) == labels("15:00", "21:00")
    assert {label for label, rate in demand_rates(plan).items() if rate} == {
        period_name(label) for label in labels("15:00", "21:00")
    }


def test_slots_beyond_amber_data_take_the_marked_time_of_day() -> None:
    payload = marked(site_payload(THURSDAY, hours_back=24, hours_ahead=14), 15, 21)
    plan = plan_of(payload, "Australia/Sydney", THURSDAY, demand=DemandOptions(0.45))
    # Friday 15:00-16:30 lie beyond the data (it ends Fri 06:42): marked on Thursday and Wednesday
    assert any(slot.estimated for slot in plan.slots)
    assert in_window(plan) == labels("15:00", "21:00")


def test_no_marks_and_no_window_means_no_demand_charge() -> None:
    payload = marked(site_payload(THURSDAY, hours_back=2), 0, 0)  # all demandWindow: false
    plan = plan_of(payload, "Australia/Sydney", THURSDAY, demand=DemandOptions(0.45))
    assert plan.demand is not None and plan.demand.source == "none" and not plan.demand.labels
    without = plan_of(payload, "Australia/Sydney", THURSDAY)
    assert without.demand is None
    assert json.dumps(plan.body) == json.dumps(without.body)


def test_without_the_setting_the_body_is_unchanged(cli: CliRunner, tmp_path: Path) -> None:
    payload = site_payload(THURSDAY, hours_back=2)
    plan = plan_of(payload, "Australia/Sydney", THURSDAY)
    rates = {slot.label: (slot.buy, slot.sell) for slot in plan.slots}
    assert json.dumps(plan.body) == json.dumps(build_request_body(rates))
    assert plan.body["tou_settings"]["tariff_content_v2"]["demand_charges"] == ZERO_TREE
    assert all(not slot.demand_window for slot in plan.slots)
    # the sample preview's body, byte for byte, as before demand windows
    empty = tmp_path / "config.toml"
    empty.write_text("")
    result = cli("--config", str(empty), "tariff", "--sample", "--json")
    assert result.code == 0, result.stderr
    shown = json.loads(result.stdout)
    body = json.dumps(shown["tesla_request"]).encode()
    assert hashlib.sha256(body).hexdigest() == SAMPLE_BODY_SHA256
    assert shown["demand"] is None
    assert not any(slot["demand_window"] for slot in shown["slots"])


def test_the_read_back_check_covers_demand_charges() -> None:
    payload = site_payload(THURSDAY, hours_back=2)
    options = DemandOptions(0.45, parse_window("16:00-21:00"))
    sent = plan_of(payload, "Australia/Sydney", THURSDAY, demand=options)
    tariff = sent.body["tou_settings"]["tariff_content_v2"]
    assert differences(tariff, copy.deepcopy(tariff)) == []
    dropped = copy.deepcopy(tariff)
    del dropped["demand_charges"]
    assert differences(tariff, dropped) == ["demand: missing in the read-back"]
    zero = {**copy.deepcopy(tariff), "demand_charges": ZERO_TREE}
    assert differences(tariff, zero) == ["demand at Mon 16:00: sent 0.45, read back 0.0"]
    other = copy.deepcopy(tariff)
    other["demand_charges"]["Summer"]["rates"]["PERIOD_18_00"] = 0.5
    assert differences(tariff, other) == ["demand at Mon 18:00: sent 0.45, read back 0.5"]
    moved = copy.deepcopy(tariff)
    moved["demand_charges"]["Summer"]["rates"]["PERIOD_15_30"] = 0.45
    assert differences(tariff, moved) == ["demand at Mon 15:30: sent 0.0, read back 0.45"]
    # Tesla may leave zero rates out of what it reads back: a missing rate is 0
    sparse = copy.deepcopy(tariff)
    rates = sparse["demand_charges"]["Summer"]["rates"]
    sparse["demand_charges"]["Summer"]["rates"] = {k: v for k, v in rates.items() if v}
    assert differences(tariff, sparse) == []
    # a tariff expected without demand charges is compared on its energy rates alone
    plain = plan_of(payload, "Australia/Sydney", THURSDAY).body["tou_settings"]
    assert differences(plain["tariff_content_v2"], tariff) == []
    found = demand_of(tariff)
    assert found is not None and found.labels == frozenset(labels("16:00", "21:00"))
    assert found.charge_per_kw == 0.45 and demand_of(plain["tariff_content_v2"]) is None


def test_the_preview_shows_the_window(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[demand]\ncharge_per_kw = 0.45\nwindow = "16:00-21:00"\n')
    table = cli("--config", str(config), "tariff", "--sample")
    assert table.code == 0, table.stderr
    said = " ".join(table.stdout.split())
    assert "demand window 16:00\u201321:00 at $0.45/kW (from demand.window)" in said
    rows = [line for line in table.stdout.splitlines() if line[:2].isdigit() and "\u2502" in line]
    marked_rows = {row.split()[0] for row in rows if " D " in row}
    assert marked_rows == labels("16:00", "21:00")
    assert "  demand DDDDDDDDD" in table.stdout  # the chart's marker row (from 16:30 now)
    shown = json.loads(cli("--config", str(config), "tariff", "--sample", "--json").stdout)
    assert shown["demand"]["charge_per_kw"] == 0.45
    assert shown["demand"]["source"] == "settings"
    assert shown["demand"]["windows"] == [{"from": "16:00", "to": "21:00"}]
    assert {s["slot"] for s in shown["slots"] if s["demand_window"]} == labels("16:00", "21:00")
    rates = shown["tesla_request"]["tou_settings"]["tariff_content_v2"]["demand_charges"]
    assert rates["Summer"]["rates"]["PERIOD_18_00"] == 0.45
    assert rates["Summer"]["rates"]["PERIOD_21_00"] == 0.0


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ('window = "16:15-21:00"', "16:15 is not on the half-hour"),
        ('window = "evening"', "'evening' is not a window"),
        ('window = "18:00-18:00"', "is empty"),
        ('days = "weekends"', "Input should be 'all' or 'weekdays'"),
        ("charge_per_kw = -1", "Input should be greater than 0"),
    ],
)
def test_a_bad_demand_setting_exits_3_and_says_what_to_do(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, words: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[demand]\n{setting}\n")
    result = cli("--config", str(config), "tariff", "--sample")
    assert result.code == ExitCode.CONFIG == 3
    assert words in result.stderr
    assert "line 2: key 'demand." in result.stderr
    assert "what to do:" in result.stderr
    assert "Traceback" not in result.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    monkeypatch.setenv("AMBER_TESLA_SYNC_DEMAND__WINDOW", "4pm-9pm")
    env = cli("--config", str(empty), "tariff", "--sample")
    assert env.code == 3
    assert "AMBER_TESLA_SYNC_DEMAND__WINDOW: '4pm-9pm' is not a window" in env.stderr
    assert "expected HH:MM-HH:MM" in env.stderr

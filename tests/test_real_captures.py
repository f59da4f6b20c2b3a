"""Every real Amber capture folds into a valid tariff; 5-minute data aggregates like Amber's own."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from amber_tesla_sync.tariff import Refusal, Source, TariffPlan, validate_request_body
from foldkit import run_fold
from payloads import as_live

AMBER = Path(__file__).parent / "fixtures" / "amber"
ZONES = {"enkit": "Australia/Adelaide", "globird": "Australia/Sydney", "ode": "Australia/Sydney"}
CAPTURES = sorted(p for p in AMBER.glob("*.json") if "error" not in p.name)


def _moment(path: Path) -> dt.datetime:
    """Two minutes into the capture's current interval, else the middle of its data."""
    body = json.loads(path.read_text())
    current = [i for i in body if i["type"] == "CurrentInterval"]
    if current:
        end = dt.datetime.fromisoformat(current[0]["endTime"])
        return end - dt.timedelta(minutes=current[0]["duration"]) + dt.timedelta(minutes=2)
    ends = sorted(dt.datetime.fromisoformat(i["endTime"]) for i in body)
    return ends[0] + (ends[-1] - ends[0]) / 2


# Day archives (``/prices`` by date) and the 5-minute ``prices/current`` poll with next=6 reach
# only hours ahead: as live answers they are refused (rule 11); their folding is checked with the
# horizon check off.
SHORT = {
    "enkit_sa_current_5min_20250410_032150.json",
    "enkit_sa_prices_30min_20241130.json",
    "enkit_sa_prices_30min_20250201.json",
    "enkit_sa_prices_5min_20250201.json",
}
ARCHIVE = {"min_horizon_hours": 0}


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_capture_folds_into_a_valid_tariff(path: Path) -> None:
    body = json.loads(path.read_text())
    now = _moment(path)
    if not any(i["type"] == "CurrentInterval" for i in body):
        body = as_live(body, now)
    zone = ZONES[path.name.split("_")[0]]
    plan = run_fold(body, zone, now)
    if path.name in SHORT:
        assert isinstance(plan, Refusal)
        assert any("h are needed (tariff.min_horizon_hours)" in r for r in plan.reasons)
        plan = run_fold(body, zone, now, **ARCHIVE)
    assert isinstance(plan, TariffPlan), plan
    assert validate_request_body(plan.body) == []
    assert len(plan.slots) == 48
    if any(i["type"] == "CurrentInterval" for i in body):
        assert plan.slots[0].general.source is Source.CURRENT


def test_five_minute_prices_aggregate_to_amber_half_hours() -> None:
    """The same SA day at both resolutions (a price spike included) gives the same tariff."""
    five = json.loads((AMBER / "enkit_sa_prices_5min_20250201.json").read_text())
    thirty = json.loads((AMBER / "enkit_sa_prices_30min_20250201.json").read_text())
    now = dt.datetime.fromisoformat("2025-02-01T06:05:00+10:30")
    a = run_fold(as_live(five, now), "Australia/Adelaide", now, **ARCHIVE)
    b = run_fold(as_live(thirty, now), "Australia/Adelaide", now, **ARCHIVE)
    assert isinstance(a, TariffPlan)
    assert isinstance(b, TariffPlan)
    # the current slot differs by design (5-minute data counts only from 06:05); all else agrees
    assert [(s.label, s.buy, s.sell) for s in a.slots[1:]] == [
        (s.label, s.buy, s.sell) for s in b.slots[1:]
    ]
    assert a.slots[0].buy != b.slots[0].buy
    assert max(slot.buy for slot in a.slots) > 5  # the 18:30 spike is in there


def test_spike_day_does_not_leak_into_tomorrow() -> None:
    """Past the end of the data, the evening spike of 2025-02-01 is replaced by the day's median."""
    thirty = json.loads((AMBER / "enkit_sa_prices_30min_20250201.json").read_text())
    now = dt.datetime.fromisoformat("2025-02-01T20:10:00+10:30")
    plan = run_fold(as_live(thirty, now), "Australia/Adelaide", now, **ARCHIVE)
    assert isinstance(plan, TariffPlan)
    estimated = [slot for slot in plan.slots if slot.general.source is Source.ESTIMATED]
    assert estimated
    spikes = {
        i["endTime"]
        for i in thirty
        if i["spikeStatus"] == "spike" and i["channelType"] == "general"
    }
    assert spikes
    assert max(slot.buy for slot in estimated) < 1.0

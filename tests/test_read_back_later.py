"""Which pushes are read back in their own run and which by the next check (each read of
site_info is billed on the Fleet API, twice a write): a routine push on the Fleet API, after one
read back in effect, before the check is due, ends "pushed" without a read; the next check reads
it back, and a push that did not apply is reported by that run and sent once more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.settings.config import SyncSettings
from amber_tesla_sync.store.state import LastPush
from amber_tesla_sync.sync.decide import Tolerances, decide, plan_rates
from amber_tesla_sync.sync.published import tariff_verified
from amber_tesla_sync.sync.tariff_push import read_back_now
from foldkit import plan_of
from payloads import site_payload, utc
from synckit import Synced, flat, fleet_login

NOW = utc("2025-07-17T12:05:00+10:00")  # Brisbane; the current slot is 12:00–12:30
ZONE = "Australia/Brisbane"


CHECK_EVERY = SyncSettings().check_remote_every_minutes


@dataclass
class Every:
    check_remote_every_minutes: int = CHECK_EVERY
    read_back_every_push: bool = False


def last(verified: bool = True, deferred: bool = False) -> LastPush:
    return LastPush(rates={}, pushed_at=NOW, fingerprint="f", verified=verified, deferred=deferred)


def later(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def test_only_a_routine_fleet_push_in_a_checked_hour_after_a_good_one_waits() -> None:
    every = Every()
    assert not read_back_now(True, last(), NOW, later(30), every, "fleet")  # type: ignore[arg-type]
    assert not read_back_now(True, last(False, True), NOW, later(30), every, "fleet")  # type: ignore[arg-type]
    cases = {
        "not routine": (False, last(), NOW, later(30), every, "fleet"),
        "teslemetry": (True, last(), NOW, later(30), every, "teslemetry"),
        "first push": (True, None, NOW, later(30), every, "fleet"),
        "last one not in effect": (True, last(False), NOW, later(30), every, "fleet"),
        "check due": (True, last(), NOW, later(CHECK_EVERY), every, "fleet"),
        "never checked": (True, last(), None, later(30), every, "fleet"),
        "every push": (True, last(), NOW, later(30), Every(read_back_every_push=True), "fleet"),
    }
    for name, args in cases.items():
        assert read_back_now(*args), name  # type: ignore[arg-type]


def moved(label: str, cents: float) -> dict[str, tuple[float, float]]:
    rates = plan_rates(plan_of(site_payload(NOW, buy=30.0, sell=-10.0), ZONE, NOW))
    buy, sell = rates[label]
    rates[label] = (round(buy + cents / 100, 4), sell)
    return rates


def test_what_is_routine_and_what_is_read_back_at_once() -> None:
    plan = plan_of(site_payload(NOW, buy=30.0, sell=-10.0), ZONE, NOW)
    tolerances = Tolerances()
    pushed_at = NOW - dt.timedelta(minutes=40)
    near = decide(plan, moved("13:00", 1.0), pushed_at, NOW, tolerances)
    assert near.push and near.routine
    drift = decide(plan, moved("12:00", 3.0), pushed_at, NOW, tolerances)  # the current slot
    assert drift.push and drift.routine
    spike = decide(plan, moved("12:00", 40.0), pushed_at, NOW, tolerances)
    assert spike.push and not spike.routine
    same = plan_rates(plan)
    reassert = decide(plan, same, NOW - dt.timedelta(hours=2), NOW, tolerances)
    assert reassert.push and reassert.routine
    assert not decide(plan, None, None, NOW, tolerances).routine  # the first push
    assert not decide(plan, same, pushed_at, NOW, tolerances, foreign_tariff="x").routine
    assert not decide(plan, same, pushed_at, NOW, tolerances, force=True).routine


def test_a_later_relation_waits_for_the_next_push_to_carry_it() -> None:
    plan = plan_of(site_payload(NOW, buy=30.0, sell=-10.0), ZONE, NOW)
    rates = plan_rates(plan)
    rates["20:00"] = (rates["20:00"][0], round(rates["20:00"][1] - 10.6 / 100, 4))  # sell < 0
    tolerances = Tolerances()
    waits = decide(plan, rates, NOW - dt.timedelta(minutes=25), NOW, tolerances)
    assert not waits.push
    alone = decide(plan, rates, NOW - dt.timedelta(minutes=30), NOW, tolerances)
    assert alone.push and [c.relation for c in alone.changes] == ["sell sign"]
    rates["13:00"] = (rates["13:00"][0] + 0.01, rates["13:00"][1])  # a near-term move as well
    carried = decide(plan, rates, NOW - dt.timedelta(minutes=25), NOW, tolerances)
    assert carried.push
    assert {c.label for c in carried.changes} == {"13:00", "20:00"}


# -- against the sandbox, on the Fleet API ------------------------------------------------------


def site_info_reads(synced: Synced) -> int:
    return sum(1 for r in synced.tesla_requests() if r["path"].endswith("/site_info"))


@pytest.fixture
def fleet(synced: Synced) -> Synced:
    fleet_login(synced.site)
    text = synced.site.config.read_text() + "\n[sync]\nverify_seconds = 0\n"
    synced.site.config.write_text(text)
    synced.serve_prices(flat(synced.amber_prices(), buy=20))
    first = synced.sync_json()["sites"][0]
    assert (first["outcome"], first["backend"]) == ("verified", "fleet"), first
    synced.sandbox.clear_requests()
    return synced


def routine_push(synced: Synced, buy: float) -> dict[str, object]:
    """A sync with every price moved to ``buy`` c/kWh (a near-term move, nothing else)."""
    synced.serve_prices(flat(synced.amber_prices(), buy=buy))
    return synced.sync_json()


def test_a_routine_push_is_read_back_by_the_next_check(fleet: Synced) -> None:
    fleet.advance(15)
    result = routine_push(fleet, 22)
    site = result["sites"][0]  # type: ignore[index]
    assert (result["_code"], site["outcome"], site["pushed"]) == (0, "pushed", True), site
    assert "read back by the next check" in site["reason"]
    assert site_info_reads(fleet) == 0 and len(fleet.sandbox.tariff_posts()) == 2
    for _ in range(CHECK_EVERY // 5 - 4):  # 20 min after the first read … 5 min before the check
        fleet.advance(5)
        quiet = routine_push(fleet, 22)
        assert quiet["_code"] == 0 and quiet["sites"][0]["outcome"] == "unchanged"  # type: ignore[index]
    assert site_info_reads(fleet) == 0
    fleet.advance(5)  # check_remote_every_minutes after the last read: the check reads it back
    checked = routine_push(fleet, 22)["sites"][0]  # type: ignore[index]
    assert checked["outcome"] == "verified", checked
    assert "now read back as sent" in checked["reason"]
    assert site_info_reads(fleet) == 1 and len(fleet.sandbox.tariff_posts()) == 2


def test_a_routine_push_that_did_not_apply_is_caught_by_the_next_check(fleet: Synced) -> None:
    fleet.advance(CHECK_EVERY - 30)
    fleet.sandbox.set_switches(tariff_apply_delay=6 * 3600)  # accepted, not in effect for hours
    assert routine_push(fleet, 22)["sites"][0]["outcome"] == "pushed"  # type: ignore[index]
    fleet.advance(30)  # the check is due: the push is not in effect, 30 min after it was sent
    caught = routine_push(fleet, 22)
    site = caught["sites"][0]  # type: ignore[index]
    assert caught["_code"] == ExitCode.VERIFY and site["outcome"] == "unverified", site
    assert (
        "not in effect after 30 min" in site["reason"] and "sending it once more" in site["reason"]
    )
    assert len(fleet.sandbox.tariff_posts()) == 3  # the first, the routine one, once more


def test_read_back_every_push_reads_each_one(fleet: Synced) -> None:
    text = fleet.site.config.read_text() + "read_back_every_push = true\n"
    fleet.site.config.write_text(text)
    fleet.advance(15)
    site = routine_push(fleet, 22)["sites"][0]  # type: ignore[index]
    assert site["outcome"] == "verified" and site_info_reads(fleet) == 1, site


def test_a_push_left_to_the_next_check_is_published_as_not_read_yet() -> None:
    assert tariff_verified(last(False, True)) is None  # not read back yet: unknown
    assert tariff_verified(last(False)) is False  # read back, not in effect
    assert tariff_verified(last()) is True
    assert tariff_verified(None) is None

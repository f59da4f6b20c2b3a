"""The push decision (pure): tolerances by how soon a slot starts, re-assertion, force, foreign."""

from __future__ import annotations

import datetime as dt

from amber_tesla_sync.sync.decide import Tolerances, decide, fingerprint, plan_rates
from amber_tesla_sync.tariff import TariffPlan
from foldkit import plan_of
from payloads import site_payload, utc

NOW = utc("2025-07-17T12:05:00+10:00")  # Brisbane; the current slot is 12:00–12:30
ZONE = "Australia/Brisbane"
TOL = Tolerances()


def plan() -> TariffPlan:
    return plan_of(site_payload(NOW, buy=30.0, sell=-10.0), ZONE, NOW)


def moved(label: str, cents: float, side: int = 0) -> dict[str, tuple[float, float]]:
    rates = plan_rates(plan())
    pair = list(rates[label])
    pair[side] = round(pair[side] + cents / 100, 4)
    rates[label] = (pair[0], pair[1])
    return rates


def test_first_push_and_force() -> None:
    assert decide(plan(), None, None, NOW, TOL).push
    same = plan_rates(plan())
    forced = decide(plan(), same, NOW, NOW, TOL, force=True)
    assert forced.push
    assert forced.reason == "forced (--force)"


def test_near_slots_are_tight_and_far_slots_loose() -> None:
    pushed_at = NOW - dt.timedelta(minutes=15)
    assert not decide(plan(), moved("13:00", 0.7), pushed_at, NOW, TOL).push
    near = decide(plan(), moved("13:00", 0.8), pushed_at, NOW, TOL)
    assert near.push
    assert "13:00 buy 30.80 → 30.00" in near.reason
    assert not decide(plan(), moved("20:00", 1.9, side=1), pushed_at, NOW, TOL).push
    assert decide(plan(), moved("20:00", 2.1, side=1), pushed_at, NOW, TOL).push


def test_small_moves_settle_for_ten_minutes_after_a_push() -> None:
    just = NOW - dt.timedelta(minutes=5)
    assert not decide(plan(), moved("13:00", 1.5), just, NOW, TOL).push
    assert decide(plan(), moved("13:00", 2.5), just, NOW, TOL).push
    assert decide(plan(), moved("13:00", 1.5), NOW - dt.timedelta(minutes=10), NOW, TOL).push


def test_the_current_slot_has_its_own_tolerance_and_is_left_alone_at_its_end() -> None:
    pushed_at = NOW - dt.timedelta(minutes=15)
    assert not decide(plan(), moved("12:00", 1.9), pushed_at, NOW, TOL).push
    assert decide(plan(), moved("12:00", 2.5), pushed_at, NOW, TOL).push
    late = NOW + dt.timedelta(minutes=20)  # 12:25: five minutes of the slot left
    late_plan = plan_of(site_payload(late, buy=30.0, sell=-10.0), ZONE, late)
    before = plan_rates(late_plan)
    before["12:00"] = (0.9, before["12:00"][1])
    assert not decide(late_plan, before, pushed_at, late, TOL).push


def test_reassert_after_and_foreign_tariffs() -> None:
    same = plan_rates(plan())
    recent = decide(plan(), same, NOW - dt.timedelta(minutes=119), NOW, TOL)
    assert not recent.push
    assert recent.reason.startswith("no material change")
    assert decide(plan(), same, NOW - dt.timedelta(minutes=120), NOW, TOL).push
    foreign = decide(plan(), same, NOW, NOW, TOL, foreign_tariff="code 'X'")
    assert foreign.push
    assert "not ours" in foreign.reason


def test_fingerprint_is_stable_and_sensitive() -> None:
    body = plan().body
    assert fingerprint(body) == fingerprint(dict(reversed(list(body.items()))))
    other = plan_of(site_payload(NOW, buy=30.01, sell=-10.0), ZONE, NOW).body
    assert fingerprint(other) != fingerprint(body)

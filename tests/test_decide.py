"""The push decision (pure): tolerances for the current and near-term slots, later moves by what
they change for the Powerwall, spikes at once, re-assertion, force, foreign."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from amber_tesla_sync.sync.decide import Tolerances, decide, fingerprint, plan_rates
from amber_tesla_sync.tariff import TariffPlan
from foldkit import plan_of
from payloads import site_payload, utc

NOW = utc("2025-07-17T12:05:00+10:00")  # Brisbane; the current slot is 12:00–12:30
ZONE = "Australia/Brisbane"
# the rules' numbers these tests are written for (wider than the shipped defaults, which a test
# below holds to [sync]'s)
TOL = Tolerances(near_dollars=0.0075, current_dollars=0.02)


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


def test_near_slots_are_tight_and_far_slots_count_by_what_they_change() -> None:
    pushed_at = NOW - dt.timedelta(minutes=15)
    assert not decide(plan(), moved("13:00", 0.7), pushed_at, NOW, TOL).push
    near = decide(plan(), moved("13:00", 0.8), pushed_at, NOW, TOL)
    assert near.push
    assert "13:00 buy 30.80 → 30.00" in near.reason
    # a later sell price 5 c higher is still far below every buy price and above zero: no push
    quiet = decide(plan(), moved("20:00", 5.0, side=1), pushed_at, NOW, TOL)
    assert not quiet.push
    assert quiet.reason.startswith("no material change (largest move 5.00 c/kWh")
    # a later sell price crossing zero changes what the Powerwall does with it (once the last
    # push is far_wait old: before, it waits for a near-term push to carry it)
    crossed = decide(plan(), moved("20:00", -10.6, side=1), NOW - TOL.far_wait, NOW, TOL)
    assert crossed.push
    assert "changed what the Powerwall would do; 20:00 sell -0.60 → 10.00" in crossed.reason
    assert "a sell price below zero: changed" in crossed.reason
    assert [c.relation for c in crossed.changes] == ["sell sign"]
    # a later buy price back on a flat day, from just above it: on the boundary, not past it
    assert not decide(plan(), moved("20:00", 1.0), pushed_at, NOW, TOL).push


def test_small_moves_settle_for_ten_minutes_after_a_push() -> None:
    just = NOW - dt.timedelta(minutes=5)
    assert not decide(plan(), moved("13:00", 1.5), just, NOW, TOL).push
    assert decide(plan(), moved("13:00", 2.5), just, NOW, TOL).push
    assert decide(plan(), moved("13:00", 1.5), NOW - dt.timedelta(minutes=10), NOW, TOL).push


def test_a_spike_in_the_current_slot_is_pushed_even_in_its_last_minutes() -> None:
    pushed_at = NOW - dt.timedelta(minutes=15)
    assert not decide(plan(), moved("12:00", 1.9), pushed_at, NOW, TOL).push
    assert decide(plan(), moved("12:00", 2.5), pushed_at, NOW, TOL).push
    late = NOW + dt.timedelta(minutes=20)  # 12:25: five minutes of the slot left
    late_plan = plan_of(site_payload(late, buy=30.0, sell=-10.0), ZONE, late)
    before = plan_rates(late_plan)
    before["12:00"] = (0.9, before["12:00"][1])  # the Powerwall has 90 c; Amber now says 30 c
    spike = decide(late_plan, before, pushed_at, late, TOL)
    assert spike.push
    assert spike.reason.startswith("the current slot moved: 12:00 buy 90.00 → 30.00")
    # even right after a push (the settle time lets only big moves through)
    assert decide(late_plan, before, late - dt.timedelta(minutes=2), late, TOL).push


def test_a_spike_in_the_next_slot_is_pushed_at_once() -> None:
    late = NOW + dt.timedelta(minutes=20)  # 12:25: the next slot starts in five minutes
    late_plan = plan_of(site_payload(late, buy=30.0, sell=-10.0), ZONE, late)
    before = plan_rates(late_plan)
    before["12:30"] = (before["12:30"][0] + 0.5, before["12:30"][1])  # the next slot: 50 c off
    assert decide(late_plan, before, late - dt.timedelta(minutes=2), late, TOL).push
    assert decide(late_plan, before, late - dt.timedelta(minutes=30), late, TOL).push


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


def test_the_current_half_hours_tolerance_grows_as_it_runs_out() -> None:
    tight = Tolerances(current_dollars=0.005)
    cases = (  # minutes into the 12:00 slot, move in c/kWh, pushed
        (0, 0.45, False),  # 30 min left: 0.5 c
        (0, 0.6, True),
        (15, 0.9, False),  # 15 min left: 1 c
        (15, 1.1, True),
        (27, 1.9, False),  # 3 min left: capped at 2 c, so a spike still goes at once
        (27, 2.1, True),
    )
    for minutes, cents, expected in cases:
        now = NOW - dt.timedelta(minutes=5) + dt.timedelta(minutes=minutes, seconds=1)
        at_now = plan_of(site_payload(now, buy=30.0, sell=-10.0), ZONE, now)
        before = plan_rates(at_now)
        before["12:00"] = (round(before["12:00"][0] + cents / 100, 4), before["12:00"][1])
        pushed_at = now - dt.timedelta(minutes=20)
        assert decide(at_now, before, pushed_at, now, tight).push is expected, (minutes, cents)


def test_the_default_tolerances_are_the_settings_defaults() -> None:
    """``Tolerances()`` is what a sync with no ``[sync]`` options decides with."""
    from amber_tesla_sync.settings.config import SyncSettings

    defaults = dataclasses.asdict(Tolerances())
    built = dataclasses.asdict(Tolerances.of(SyncSettings()))
    assert defaults.keys() == built.keys()
    for name, value in built.items():
        assert defaults[name] == (pytest.approx(value) if isinstance(value, float) else value), name

"""Properties of the fold on generated input, and agreement with an independent implementation."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings

from amber_tesla_sync.tariff import Refusal, TariffPlan, validate_request_body
from amber_tesla_sync.tariff.model import LIVE
from foldkit import rates, run_fold
from generators import Case, cases
from oracle.reference_fold import ReferenceRefusal, reference_fold

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_refuses_or_returns_a_valid_body(case: Case) -> None:
    result = run_fold(case.payload, case.zone, case.now, **case.options)
    if isinstance(result, Refusal):
        assert result.reasons and all(result.reasons)
        assert result.missing or untrusted(case)
        assert all(spans for spans in result.missing.values())
        return
    assert len(result.slots) == 48
    assert len({slot.label for slot in result.slots}) == 48
    allow = case.options["allow_sell_above_buy"]
    assert validate_request_body(result.body, allow_sell_above_buy=allow) == []
    for buy, sell in rates(result).values():
        assert buy >= 0
        assert sell >= 0
        assert allow or sell <= buy
    assert result.slots[0].span.start <= case.now < result.slots[0].span.end


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def untrusted(case: Case) -> bool:
    """Rule 11, worked out here on the raw payload: the fold must refuse such an answer."""
    now = case.now
    slack = dt.timedelta(minutes=5)
    horizon = dt.timedelta(hours=case.options.get("min_horizon_hours", 12.0))
    live = [
        item
        for item in case.payload
        if item["type"] in ("ActualInterval", "CurrentInterval", "ForecastInterval")
        and item["channelType"] in ("general", "feedIn")
    ]
    prices: dict[tuple[str, str, int], set[str]] = {}
    for item in live:
        end = _time(item["endTime"])
        start = end - dt.timedelta(minutes=item["duration"])
        if item["type"] == "ActualInterval" and end > now + slack:
            return True
        if item["type"] == "CurrentInterval" and not start - slack <= now < end + slack:
            return True
        if item["type"] == "ForecastInterval" and start < now - slack:
            return True  # a forecast already in the past: a stale answer
        if item["duration"] not in (5, 15, 30):
            return True  # not one of Amber's durations
        key = (item["channelType"], item["endTime"], item["duration"])
        prices.setdefault(key, set()).add(repr((item["perKwh"], item.get("advancedPrice"))))
    if any(len(found) > 1 for found in prices.values()):
        return True
    for channel in ("general", "feedIn"):  # overlapping intervals (exact repeats aside)
        ends = {(_time(i["endTime"]), i["duration"]) for i in live if i["channelType"] == channel}
        reach = None
        for start, end in sorted((end - dt.timedelta(minutes=m), end) for end, m in ends):
            if reach is not None and start < reach:
                return True
            reach = end if reach is None else max(reach, end)
    for channel in ("general", "feedIn"):
        ends = [_time(i["endTime"]) for i in live if i["channelType"] == channel]
        if ends and max(ends) - now < horizon:
            return True
    return False


def _no_live_data(result: TariffPlan | Refusal) -> bool:
    return isinstance(result, Refusal) and any(
        "any of the coming 48 slots" in reason for reason in result.reasons
    )


@SETTINGS
@given(cases())
def test_agrees_with_the_reference_implementation(case: Case) -> None:
    ours = run_fold(case.payload, case.zone, case.now, **case.options)
    if untrusted(case):
        # rule 11 is checked before the fold (the reference implements rules 1-10 only)
        assert isinstance(ours, Refusal) and not ours.missing, ours
        return
    assert not (isinstance(ours, Refusal) and not ours.missing), ours
    options = {k: v for k, v in case.options.items() if k != "min_horizon_hours"}
    reference = reference_fold(case.payload, case.zone, case.now, **options)
    if _no_live_data(ours):
        # stricter than the rules on purpose: a channel without data of its own for any of the 48
        # slots is refused (every price would be an estimate); the reference may estimate them
        assert isinstance(ours, Refusal)
        assert isinstance(reference, ReferenceRefusal) or any(
            labels <= reference.estimated
            for labels in ({s.period_name for s in spans} for spans in ours.missing.values())
        )
        return
    if isinstance(reference, ReferenceRefusal):
        assert isinstance(ours, Refusal), f"reference refused ({reference.missing}), we did not"
        assert {c: {s.period_name for s in spans} for c, spans in ours.missing.items()} == {
            c: set(labels) for c, labels in reference.missing.items()
        }
        return
    assert isinstance(ours, TariffPlan), f"we refused: {ours}"
    mine = rates(ours)
    for label, (buy, sell) in reference.rates.items():
        assert abs(mine[label][0] - buy) <= 1.0001e-4, (label, mine[label], (buy, sell))
        assert abs(mine[label][1] - sell) <= 1.0001e-4, (label, mine[label], (buy, sell))
    estimated = {slot.span.period_name for slot in ours.slots if slot.estimated}
    assert estimated == reference.estimated
    assert {s.span.period_name for s in ours.slots if s.general.source not in LIVE} | {
        s.span.period_name for s in ours.slots if s.feed_in and s.feed_in.source not in LIVE
    } == reference.estimated | reference.gap_filled

"""Hostile Amber answers through the parser and the fold: a valid tariff that keeps every rule,
or a refusal / a bad-data error with a message; never an uncaught exception.

CI runs a fixed, derandomised set (the ``repeatable`` profile in conftest.py). A big random sweep
is run by hand: ``HYPOTHESIS_PROFILE=sweep python -m pytest tests/test_fuzz_amber.py``.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from amber_tesla_sync.amber.models import parse_intervals
from amber_tesla_sync.errors import DataError
from amber_tesla_sync.tariff import FoldOptions, Refusal, Source, fold, validate_request_body
from generators import Case, cases
from test_fold_properties import untrusted

# every IANA zone that NEM customers live in
NEM_ZONES = (
    "Australia/Sydney",
    "Australia/Melbourne",
    "Australia/Brisbane",
    "Australia/Adelaide",
    "Australia/Hobart",
    "Australia/Broken_Hill",
    "Australia/Lindeman",
    "Australia/Canberra",
    "Australia/ACT",
)
FIELDS = ("type", "duration", "endTime", "perKwh", "channelType", "spikeStatus", "advancedPrice")
ODD_VALUES = (
    None,
    "30.5",
    "",
    True,
    [],
    {},
    1e6,
    -1e6,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    0,
    -1,
    7,
    1441,
    "2025-13-45T99:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2025-07-17T10:00:00",  # no offset
    "ForecastInterval",
    "feedIn",
)
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def hostile(draw: st.DrawFn) -> Case:
    case = draw(cases())
    payload = copy.deepcopy(case.payload)
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        if not payload:
            break
        index = draw(st.integers(min_value=0, max_value=len(payload) - 1))
        item = payload[index]
        action = draw(
            st.sampled_from(
                ("drop-field", "odd-value", "duplicate", "conflict", "overlap", "move", "band")
            )
        )
        if action == "drop-field":
            item.pop(draw(st.sampled_from(FIELDS)), None)
        elif action == "odd-value":
            item[draw(st.sampled_from(FIELDS))] = draw(st.sampled_from(ODD_VALUES))
        elif action == "duplicate":
            payload.append(copy.deepcopy(item))
        elif action == "conflict":
            twin = copy.deepcopy(item)
            twin["perKwh"] = draw(st.floats(min_value=-100, max_value=300, allow_nan=False))
            payload.append(twin)
        elif action == "overlap":
            twin = copy.deepcopy(item)
            twin["duration"] = draw(st.sampled_from((5, 15, 30, 60, 90)))
            payload.append(twin)
        elif action == "move":
            shift = dt.timedelta(minutes=draw(st.integers(min_value=-3000, max_value=3000)))
            try:
                end = dt.datetime.fromisoformat(str(item["endTime"]).replace("Z", "+00:00"))
                item["endTime"] = (end + shift).isoformat()
            except (KeyError, ValueError, OverflowError):
                pass
        else:
            item["advancedPrice"] = {"low": 0, "predicted": 0, "high": 0}
    if draw(st.booleans()):
        payload = draw(st.permutations(payload))
    return Case(list(payload), draw(st.sampled_from(NEM_ZONES)), case.now, case.options)


def _is_extreme(item: dict[str, Any]) -> bool:
    return item.get("spikeStatus") in ("spike", "potential")


@SETTINGS
@given(hostile())
def test_hostile_answers_fold_or_refuse_with_a_message(case: Case) -> None:
    try:
        intervals = parse_intervals(case.payload)
    except DataError as error:
        event("rejected where the data enters (bad data)")
        assert error.message.strip()
        assert "malformed intervals:\n  - " in error.message or "not an Amber" in error.message
        return
    for item in intervals:  # what got in is plausible
        assert math.isfinite(item.per_kwh) and -5000 <= item.per_kwh <= 5000
    options = FoldOptions(**case.options)
    result = fold(intervals, ZoneInfo(case.zone), case.now, options)
    if isinstance(result, Refusal):
        event("refused")
        assert result.reasons and all(reason.strip() for reason in result.reasons)
        assert result.message.startswith("refused to build a tariff: ")
        return
    event("a tariff")
    assert not untrusted(case), "an untrustworthy answer was folded"
    allow = case.options["allow_sell_above_buy"]
    assert validate_request_body(result.body, allow_sell_above_buy=allow) == []
    assert len(result.slots) == 48
    for slot in result.slots:
        assert math.isfinite(slot.buy) and math.isfinite(slot.sell)
        assert 0 <= slot.buy <= 50 and 0 <= slot.sell <= 50
        assert allow or slot.sell <= slot.buy
    # estimates are a typical day: never above (or below) what non-spike intervals said
    for channel, side in (("general", "general"), ("feedIn", "feed_in")):
        bands = [
            (i.per_kwh, i.per_kwh)
            if i.advanced_price is None or i.type != "ForecastInterval"
            else (
                min(i.per_kwh, i.advanced_price.low, i.advanced_price.high),
                max(i.per_kwh, i.advanced_price.low, i.advanced_price.high),
            )
            for i in intervals
            if i.channel_type == channel and i.spike_status not in ("spike", "potential")
        ]
        for slot in result.slots:
            value = getattr(slot, side)
            if value is None or value.source not in (Source.ESTIMATED, Source.CARRIED):
                continue
            assert bands, "an estimate without any ordinary price to come from"
            low, high = min(b[0] for b in bands), max(b[1] for b in bands)
            assert low - 1e-6 <= value.price <= high + 1e-6


@settings(SETTINGS, max_examples=50)
@given(cases(), st.sampled_from(("general", "feedIn")))
def test_a_known_channel_that_vanishes_is_refused(case: Case, channel: str) -> None:
    payload = [item for item in case.payload if item["channelType"] != channel]
    options = FoldOptions(**case.options, expected_channels=frozenset({channel}))
    result = fold(parse_intervals(payload), ZoneInfo(case.zone), case.now, options)
    assert isinstance(result, Refusal)

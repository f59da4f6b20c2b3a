"""The edges of the safety rules, one step either side: a price just outside each plausible bound
is rejected and one just inside accepted (both channels, ``perKwh`` and every ``advancedPrice``
field); intervals overlapping by one minute are refused; a horizon just under
``tariff.min_horizon_hours`` is refused and one just at it accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from amber_tesla_sync.amber.models import parse_intervals
from amber_tesla_sync.errors import DataError
from amber_tesla_sync.tariff import Refusal, TariffPlan
from foldkit import run_fold
from payloads import interval, site_payload, utc

NOW = utc("2026-01-15T05:30:00")
ZONE = "Australia/Sydney"
STEP = 0.01  # c/kWh
# (channel, low, high): general prices in [-300, 5000], feed-in (sign reversed) in [-5000, 300]
BOUNDS = [("general", -300.0, 5000.0), ("feedIn", -5000.0, 300.0)]
FIELDS = ["perKwh", "advancedPrice.low", "advancedPrice.predicted", "advancedPrice.high"]


def priced(channel: str, field: str, value: float) -> dict[str, Any]:
    item = interval(NOW, 20.0 if channel == "general" else -5.0, channel=channel)
    if field == "perKwh":
        item["perKwh"] = value
    else:
        item["advancedPrice"][field.split(".")[1]] = value
    return item


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(("channel", "low", "high"), BOUNDS)
def test_a_price_just_outside_a_bound_is_rejected(
    channel: str, low: float, high: float, field: str
) -> None:
    for value in (low - STEP, high + STEP):
        with pytest.raises(DataError, match="outside the plausible range"):
            parse_intervals([priced(channel, field, value)])


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(("channel", "low", "high"), BOUNDS)
def test_a_price_at_or_just_inside_a_bound_is_accepted(
    channel: str, low: float, high: float, field: str
) -> None:
    for value in (low, low + STEP, high - STEP, high):
        (item,) = parse_intervals([priced(channel, field, value)])
        assert value in (item.per_kwh, *(item.advanced_price or {}).__dict__.values())


def test_intervals_overlapping_by_one_minute_are_refused() -> None:
    for channel in ("general", "feedIn"):
        body = site_payload(NOW)
        forecast = next(
            i for i in body if i["channelType"] == channel and i["type"] == "ForecastInterval"
        )
        end = dt.datetime.fromisoformat(forecast["endTime"].replace("Z", "+00:00"))
        forecast["endTime"] = (end + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = run_fold(body, ZONE, NOW)
        assert isinstance(result, Refusal), channel
        assert any("overlapping intervals" in reason for reason in result.reasons)
        assert f"{channel} " in " ".join(result.reasons)
    # side by side, and exact repeats, are not overlaps
    body = site_payload(NOW)
    assert isinstance(run_fold(body + body[:3], ZONE, NOW), TariffPlan)


@pytest.mark.parametrize("hours", [12.0, 6.0, 20.0])
def test_a_horizon_just_under_the_minimum_is_refused_and_at_it_accepted(hours: float) -> None:
    body = site_payload(NOW, hours_ahead=hours)  # both channels reach exactly NOW + hours
    at = run_fold(body, ZONE, NOW, min_horizon_hours=hours)
    assert isinstance(at, TariffPlan), at
    under = run_fold(body, ZONE, NOW + dt.timedelta(seconds=1), min_horizon_hours=hours)
    assert isinstance(under, Refusal)
    assert any("tariff.min_horizon_hours" in reason for reason in under.reasons)
    # a minute short, and the same answer with a minute more, the other way round
    assert isinstance(run_fold(body, ZONE, NOW, min_horizon_hours=hours + 1 / 60), Refusal)
    assert isinstance(run_fold(body, ZONE, NOW, min_horizon_hours=hours - 1 / 60), TariffPlan)

"""Rule 11 on the intervals themselves: durations Amber does not use, forecasts that already lie
in the past, a forecast band that says "free" while perKwh says otherwise, and a spike described
only by its descriptor. Each is an answer that used to become a tariff."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.tariff import Refusal, Source, TariffPlan
from foldkit import by_label, plan_of, run_fold
from payloads import interval, site_payload, utc
from synckit import Synced

NOW = utc("2026-01-15T05:42:10")  # 16:42 in Sydney
ZONE = "Australia/Sydney"


def refused(result: TariffPlan | Refusal, needle: str) -> Refusal:
    assert isinstance(result, Refusal), "an untrustworthy answer became a tariff"
    assert not result.missing  # refused before the fold, not for missing slots
    assert any(needle in reason for reason in result.reasons), result.reasons
    assert result.message.startswith("refused to build a tariff: ")
    return result


# -- 2. durations: 5, 15 or 30 minutes ---------------------------------------------------------


def one_long_forecast(minutes: int) -> list[dict[str, Any]]:
    """Per channel: the current half-hour, then one forecast of ``minutes`` to cover the day."""
    start = utc("2026-01-15T05:30")
    body = []
    for channel, price in (("general", 31.0), ("feedIn", -7.0)):
        body.append(interval(start, price, channel=channel, kind="CurrentInterval"))
        body.append(
            interval(start + dt.timedelta(minutes=30), price, channel=channel, duration=minutes)
        )
    return body


@pytest.mark.parametrize("minutes", [1440, 60, 45, 7, 1])
def test_a_duration_amber_does_not_use_is_refused(minutes: int) -> None:
    # 1440: one price for a whole day would have become a flat tariff
    result = run_fold(one_long_forecast(minutes), ZONE, NOW, min_horizon_hours=0)
    refused(result, f"{minutes}-minute")


@pytest.mark.parametrize("minutes", [5, 15, 30])
def test_amber_s_durations_are_accepted(minutes: int) -> None:
    body = site_payload(NOW, duration=minutes, hours_back=1)
    plan = plan_of(body, ZONE, NOW)
    assert all(slot.buy == 0.25 for slot in plan.slots)


# -- 3. forecasts in the past --------------------------------------------------------------------


def captured(minutes_ago: float, *, current: bool) -> list[dict[str, Any]]:
    """The answer as Amber gave it ``minutes_ago``, with or without its current intervals."""
    then = NOW - dt.timedelta(minutes=minutes_ago)
    body = site_payload(then, hours_ahead=30)
    if not current:
        body = [item for item in body if item["type"] != "CurrentInterval"]
    return body


@pytest.mark.parametrize("minutes_ago", [40, 180])
def test_forecasts_already_in_the_past_are_refused(minutes_ago: float) -> None:
    refused(run_fold(captured(minutes_ago, current=False), ZONE, NOW), "forecast")


def test_a_forecast_just_starting_is_not_in_the_past() -> None:
    # the current interval ended a moment ago and the next has not taken its place yet
    body = site_payload(utc("2026-01-15T05:29:50"), hours_ahead=30)
    body = [item for item in body if item["type"] != "CurrentInterval"]
    assert isinstance(run_fold(body, ZONE, utc("2026-01-15T05:30:20")), TariffPlan)
    # within the clock slack (5 min) either way
    assert isinstance(run_fold(body, ZONE, utc("2026-01-15T05:34:50")), TariffPlan)
    refused(run_fold(body, ZONE, utc("2026-01-15T05:35:10")), "forecast")


def test_a_stale_answer_without_its_current_interval_is_not_pushed(synced: Synced) -> None:
    assert synced.sync().code == 0
    before = synced.sandbox.stored_tariff()
    stale = [item for item in synced.amber_prices() if item["type"] != "CurrentInterval"]
    synced.advance(40)
    synced.serve_prices(stale, count=2)
    synced.sandbox.clear_requests()
    summary = synced.sync_json()
    assert summary["_code"] == ExitCode.REFUSED
    assert summary["sites"][0]["outcome"] == "refused"
    assert any("in the past" in reason for reason in summary["sites"][0]["refusal"])
    assert not [r for r in synced.tesla_requests() if r.get("method") == "POST"]
    assert synced.sandbox.stored_tariff() == before


# -- 4. a forecast band that says "free" ------------------------------------------------------------


def with_band(
    low: float, predicted: float, high: float, per_kwh: float = 30.0
) -> list[dict[str, Any]]:
    body = site_payload(NOW, buy=per_kwh, hours_back=1)
    for item in body:
        if item["channelType"] == "general" and item["type"] == "ForecastInterval":
            item["advancedPrice"] = {"low": low, "predicted": predicted, "high": high}
    return body


@pytest.mark.parametrize(
    "band",
    [(0, 0, 0), (0, 0, 0.5), (-0.4, 0.4, 1.0), (0.2, -0.3, 0.5), (10, 5, 20), (28, 35, 32)],
    ids=["zeros", "zero-predicted", "near-zero", "near-zero-negative", "below-band", "above-band"],
)
def test_a_broken_forecast_band_is_not_trusted_over_per_kwh(band: tuple[float, ...]) -> None:
    plan = plan_of(with_band(*band), ZONE, NOW)
    forecasts = [s for s in plan.slots if s.general.source == Source.FORECAST]
    assert len(forecasts) >= 46
    assert all(slot.buy == 0.30 for slot in forecasts), "a broken band priced the slots"
    assert all(slot.general.per_kwh_fallback for slot in forecasts)


@pytest.mark.parametrize(
    ("band", "per_kwh", "expected"),
    [
        ((-1, 0, 2), 9.9, 0.0),  # perKwh under 10 c/kWh away: Amber's own forecast stands
        ((-1, 0.6, 2), 30.0, 0.006),  # a predicted price 0.6 c/kWh from 0 is not "free"
        ((20, 22, 26), 30.0, 0.22),  # an ordinary disagreement: Amber's forecast stands
        ((-2, -1, 3), -5.0, 0.0),  # negative prices near each other (clamped to 0 later)
    ],
)
def test_a_sound_band_is_still_used(
    band: tuple[float, ...], per_kwh: float, expected: float
) -> None:
    plan = plan_of(with_band(*band, per_kwh=per_kwh), ZONE, NOW)
    forecasts = [s for s in plan.slots if s.general.source == Source.FORECAST]
    assert all(slot.buy == expected for slot in forecasts)
    assert not any(slot.general.per_kwh_fallback for slot in forecasts)


def test_a_reversed_feed_in_band_is_sound_and_a_broken_one_is_not() -> None:
    body = site_payload(NOW, hours_back=1, sell=-12.0)
    sound, broken = copy.deepcopy(body), copy.deepcopy(body)
    for payload, band in ((sound, (-9, -11, -14)), (broken, (0, 0, -0.5))):
        for item in payload:
            if item["channelType"] == "feedIn" and item["type"] == "ForecastInterval":
                item["advancedPrice"] = dict(zip(("low", "predicted", "high"), band, strict=True))
    assert {
        s.sell
        for s in plan_of(sound, ZONE, NOW).slots
        if s.feed_in and s.feed_in.source == Source.FORECAST
    } == {0.11}
    assert {
        s.sell
        for s in plan_of(broken, ZONE, NOW).slots
        if s.feed_in and s.feed_in.source == Source.FORECAST
    } == {0.12}


# -- 5. a spike told by its descriptor ----------------------------------------------------------------


def spiky_yesterday(spike_status: str, descriptor: str) -> list[dict[str, Any]]:
    """24 h back and only 3 h ahead (to 19:42): the slots beyond are estimated from yesterday,
    whose 20:00 half-hour was a 900 c/kWh spike."""
    spike_start = utc("2026-01-14T09:00")  # 20:00 in Sydney, yesterday
    body = site_payload(NOW, hours_back=24, hours_ahead=3, buy=25.0)
    for item in body:
        end = dt.datetime.fromisoformat(item["endTime"].replace("Z", "+00:00"))
        if item["channelType"] == "general" and end - dt.timedelta(minutes=30) == spike_start:
            item.update(perKwh=900.0, spikeStatus=spike_status, descriptor=descriptor)
    return body


@pytest.mark.parametrize(
    ("spike_status", "descriptor"), [("none", "spike"), ("spike", "high"), ("potential", "neutral")]
)
def test_an_estimate_never_copies_a_spike_whatever_the_field(
    spike_status: str, descriptor: str
) -> None:
    plan = plan_of(spiky_yesterday(spike_status, descriptor), ZONE, NOW, min_horizon_hours=2)
    slot = by_label(plan)["20:00"]
    assert slot.general.source == Source.ESTIMATED
    assert slot.buy == 0.25, "yesterday's spike was copied into today's estimate"


def test_an_ordinary_high_price_is_still_copied() -> None:
    plan = plan_of(spiky_yesterday("none", "high"), ZONE, NOW, min_horizon_hours=2)
    assert by_label(plan)["20:00"].buy == 9.0

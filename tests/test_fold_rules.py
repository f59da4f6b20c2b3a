"""The tariff rules (DESIGN.md 1–9), one constructed payload per case."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.amber.models import Interval, parse_intervals
from amber_tesla_sync.tariff import Refusal, Source, TariffPlan, fold
from foldkit import by_label, plan_of, rates, run_fold
from payloads import interval, site_payload, utc, without

H = dt.timedelta(hours=1)
M30 = dt.timedelta(minutes=30)


def hour_price(start: dt.datetime) -> float:
    """A price that differs for every UTC half-hour of the day: 10.0 … 33.5 c/kWh."""
    return 10.0 + start.hour + start.minute / 60


class TestThirtyMinuteSite:
    now = utc("2025-07-17T09:41:00+10:00")  # Brisbane, no daylight saving

    def test_every_slot_takes_its_interval_price(self) -> None:
        plan = plan_of(
            site_payload(self.now, buy=hour_price, sell=-8.0), "Australia/Brisbane", self.now
        )
        assert len(plan.slots) == 48
        assert plan.slots[0].label == "09:30"
        assert plan.slots[0].span.start == utc("2025-07-16T23:30")
        for slot in plan.slots:
            assert slot.buy == round(hour_price(slot.span.start) / 100, 4)
            assert slot.sell == 0.08
        # 09:00 has passed today, so its slot is tomorrow's 09:00
        assert by_label(plan)["09:00"].span.start == utc("2025-07-17T23:00")
        assert plan.slots[-1].label == "09:00"

    def test_sources(self) -> None:
        payload = site_payload(self.now, hours_back=2, buy=hour_price)
        plan = plan_of(payload, "Australia/Brisbane", self.now)
        slots = by_label(plan)
        assert slots["09:30"].general.source is Source.CURRENT
        assert slots["10:00"].general.source is Source.FORECAST
        assert slots["09:30"].feed_in is not None
        assert slots["09:30"].feed_in.source is Source.CURRENT

    def test_slots_are_in_time_order_and_contiguous(self) -> None:
        plan = plan_of(site_payload(self.now), "Australia/Brisbane", self.now)
        starts = [slot.span.start for slot in plan.slots]
        assert starts == [starts[0] + M30 * i for i in range(48)]


class TestFiveMinuteSite:
    now = utc("2025-07-17T10:07:00+10:00")  # Brisbane; 00:07Z

    @staticmethod
    def price(start: dt.datetime) -> float:
        return 20.0 + start.minute / 5  # 5-minute interval at :mm → 20 + mm/5

    def test_current_slot_counts_from_now_floored_to_five_minutes(self) -> None:
        payload = site_payload(
            self.now, hours_back=1, buy=self.price, sell=None, five_minute_hours=1
        )
        # a huge price in the past part of the current slot must not count
        for item in payload:
            if item["endTime"] == "2025-07-17T00:05:00Z":
                item["perKwh"] = 999.0
        plan = plan_of(payload, "Australia/Brisbane", self.now)
        slots = by_label(plan)
        # current slot 10:00–10:30: intervals from 10:05 → 20 + mean(1, 2, 3, 4, 5) = 23
        assert slots["10:00"].buy == 0.23
        assert slots["10:00"].general.source is Source.CURRENT
        # 10:30–11:00: six 5-minute forecasts → 20 + mean(6 … 11) = 28.5
        assert slots["10:30"].buy == 0.285
        # from 11:00 the forecasts are 30-minute intervals, priced at their start → 20 + 0 or 20 + 6
        assert slots["11:00"].buy == 0.2
        assert slots["11:30"].buy == 0.26

    def test_mixed_durations_are_weighted_by_overlap(self) -> None:
        start = utc("2025-07-17T01:00")
        payload = [
            interval(start, 10.0, duration=5),
            interval(start + dt.timedelta(minutes=5), 40.0, duration=5),
            # a 30-minute interval overlapping the rest of the slot (20 minutes of it) …
            interval(start + dt.timedelta(minutes=10), 70.0, duration=30),
        ]
        payload += site_payload(self.now, sell=None)[:2]  # data before, so 11:00 is not leading
        plan = plan_of(
            payload, "Australia/Brisbane", self.now, max_gap_slots=48, min_horizon_hours=0
        )
        # 11:00–11:30: 5 min × 10 + 5 min × 40 + 20 min × 70 = 1650 / 30 = 55
        assert by_label(plan)["11:00"].buy == 0.55


class TestSydneyDaylightSaving:
    def test_start_day_skipped_hour_takes_a_neighbour(self) -> None:
        # clocks go 02:00 AEST → 03:00 AEDT on Sunday 2025-10-05 (16:00Z Saturday)
        now = utc("2025-10-04T12:10:00+10:00")
        plan = plan_of(site_payload(now, buy=hour_price), "Australia/Sydney", now)
        slots = by_label(plan)
        assert slots["01:30"].span.start == utc("2025-10-04T15:30")
        assert slots["02:00"].span.start == utc("2025-10-04T15:30")  # 01:30 AEST
        assert slots["02:30"].span.start == utc("2025-10-04T16:00")  # 03:00 AEDT
        assert slots["03:00"].span.start == utc("2025-10-04T16:00")
        assert (
            slots["02:00"].buy
            == slots["01:30"].buy
            == round(hour_price(utc("2025-10-04T15:30")) / 100, 4)
        )
        assert slots["02:30"].buy == slots["03:00"].buy
        # labels after the change are AEDT: 11:30 on Sunday is 00:30Z; the day is 23 h long
        assert slots["11:30"].span.start == utc("2025-10-05T00:30")
        assert plan.slots[-1].span.end - plan.slots[0].span.start == dt.timedelta(hours=23)
        assert rates(plan)["PERIOD_02_00"] == (slots["01:30"].buy, slots["01:30"].sell)

    def test_day_after_the_change_is_ordinary(self) -> None:
        now = utc("2025-10-05T09:00:00+11:00")
        plan = plan_of(site_payload(now, buy=hour_price), "Australia/Sydney", now)
        assert by_label(plan)["02:00"].span.start == utc("2025-10-05T15:00")  # Monday 02:00 AEDT
        assert len({slot.span.start for slot in plan.slots}) == 48

    def test_end_day_takes_the_first_occurrence(self) -> None:
        # clocks go 03:00 AEDT → 02:00 AEST on Sunday 2025-04-06 (16:00Z Saturday)
        now = utc("2025-04-05T12:00:00+11:00")
        plan = plan_of(site_payload(now, buy=hour_price, hours_ahead=26), "Australia/Sydney", now)
        slots = by_label(plan)
        assert slots["02:00"].span.start == utc("2025-04-05T15:00")  # first 02:00, AEDT
        assert slots["02:30"].span.start == utc("2025-04-05T15:30")
        assert slots["03:00"].span.start == utc("2025-04-05T17:00")  # 03:00 AEST
        # 11:00 has passed today: tomorrow's 11:00 AEST is 24 h after the current slot
        assert slots["11:00"].span.start == utc("2025-04-06T01:00")
        assert slots["11:30"].span.start == utc("2025-04-06T01:30")
        for slot in plan.slots:
            assert slot.buy == round(hour_price(slot.span.start) / 100, 4)

    def test_end_day_now_in_the_second_pass_of_the_repeated_hour(self) -> None:
        now = utc("2025-04-06T02:15:00+10:00")  # second 02:15, AEST (16:15Z)
        plan = plan_of(site_payload(now, buy=hour_price, hours_back=3), "Australia/Sydney", now)
        slots = by_label(plan)
        assert plan.slots[0].label == "02:00"
        assert slots["02:00"].span.start == utc("2025-04-05T16:00")  # the current slot
        assert slots["02:30"].span.start == utc("2025-04-05T16:30")
        assert slots["01:30"].span.start == utc("2025-04-06T15:30")  # tomorrow
        assert slots["02:00"].general.source is Source.CURRENT

    def test_end_day_now_in_the_first_pass_of_the_repeated_hour(self) -> None:
        now = utc("2025-04-06T02:15:00+11:00")  # first 02:15, AEDT (15:15Z)
        plan = plan_of(site_payload(now, buy=hour_price), "Australia/Sydney", now)
        slots = by_label(plan)
        assert slots["02:00"].span.start == utc("2025-04-05T15:00")
        assert slots["02:30"].span.start == utc("2025-04-05T15:30")
        assert slots["03:00"].span.start == utc("2025-04-05T17:00")  # after the repeated hour


def test_adelaide_half_hour_offset() -> None:
    now = utc("2025-07-17T09:41:00+09:30")  # 00:11Z
    plan = plan_of(site_payload(now, buy=hour_price), "Australia/Adelaide", now)
    assert plan.slots[0].label == "09:30"
    assert plan.slots[0].span.start == utc("2025-07-17T00:00")
    assert plan.slots[0].buy == round(hour_price(utc("2025-07-17T00:00")) / 100, 4)
    assert by_label(plan)["00:00"].span.start == utc("2025-07-17T14:30")


def test_brisbane_has_no_daylight_saving_on_sydneys_change_day() -> None:
    now = utc("2025-10-04T12:10:00+10:00")
    plan = plan_of(site_payload(now, buy=hour_price), "Australia/Brisbane", now)
    slots = by_label(plan)
    assert slots["02:00"].span.start == utc("2025-10-04T16:00")
    assert slots["02:30"].span.start == utc("2025-10-04T16:30")
    assert len({slot.span.start for slot in plan.slots}) == 48


class TestBeyondTheHorizon:
    now = utc("2025-07-17T08:00:00+10:00")  # Brisbane, 22:00Z on the 16th
    spike_start = utc("2025-07-17T03:00:00+10:00")

    def payload(self) -> list[dict[str, object]]:
        def price(start: dt.datetime) -> float:
            local = start.astimezone(ZoneInfo("Australia/Brisbane"))
            if local.date() == dt.date(2025, 7, 16):
                return 50.0 + local.hour  # the day before: must not be used
            if start == self.spike_start:
                return 1500.0
            return 20.0 + (local.hour % 4)

        def spike(start: dt.datetime) -> str:
            return "spike" if start == self.spike_start else "none"

        from payloads import channel_run

        first = utc("2025-07-16T08:00:00+10:00")
        count = 24 * 2 + 16 * 2  # 24 h back, 16 h ahead (to midnight)
        general = channel_run(first, count, price, now=self.now, spike=spike)
        feed_in = channel_run(first, count, -5.0, now=self.now, channel="feedIn")
        return general + feed_in

    def test_persistence_uses_yesterday_and_not_its_spike(self) -> None:
        plan = plan_of(self.payload(), "Australia/Brisbane", self.now)
        slots = by_label(plan)
        estimated = [slot.label for slot in plan.slots if slot.estimated]
        assert estimated == [f"{h:02d}:{m:02d}" for h in range(8) for m in (0, 30)]
        for label in estimated:
            assert slots[label].general.source is Source.ESTIMATED
        # 01:00 tomorrow ← 01:00 today (20 + 1), not the day before (51)
        assert slots["01:00"].buy == 0.21
        # 03:00 today was a 1500 c spike: replaced by today's median non-spike price. Today's
        # 47 non-spike half-hours are 12 × 20, 12 × 21, 12 × 22 and 11 × 23: the median is 21.
        assert slots["03:00"].buy == 0.21
        assert slots["03:00"].spike == "none"
        assert slots["08:00"].general.source is Source.CURRENT
        assert slots["23:30"].general.source is Source.FORECAST
        assert slots["07:30"].feed_in is not None
        assert slots["07:30"].feed_in.source is Source.ESTIMATED

    def test_the_past_is_read_once_and_only_for_slots_beyond_the_horizon(self) -> None:
        zone = ZoneInfo("Australia/Brisbane")
        payload = self.payload()
        recent = self.now - dt.timedelta(hours=1)
        fetched = [item for item in payload if utc(item["endTime"]) > recent]
        recorded = [item for item in payload if utc(item["endTime"]) <= recent]
        reads: list[int] = []

        def past() -> list[Interval]:
            reads.append(1)
            return parse_intervals(recorded)

        lazily = fold(parse_intervals(fetched), zone, self.now, history=past)
        whole = fold(parse_intervals(payload), zone, self.now)
        assert isinstance(lazily, TariffPlan) and isinstance(whole, TariffPlan)
        assert lazily.body == whole.body
        assert reads == [1]  # two channels, one read
        # with a forecast reaching past the day, nothing is estimated and the past is not read
        reads.clear()
        ahead = site_payload(self.now, hours_ahead=25)
        assert isinstance(fold(parse_intervals(ahead), zone, self.now, history=past), TariffPlan)
        assert reads == []

    def test_carries_a_robust_value_forward_when_nothing_is_known(self) -> None:
        payload = site_payload(self.now, hours_ahead=10, buy=hour_price)
        plan = plan_of(payload, "Australia/Brisbane", self.now, min_horizon_hours=0)
        carried = [slot for slot in plan.slots if slot.general.source is Source.CARRIED]
        assert len(carried) == 28
        # the median of the 20 slots priced from Amber's data (10.0 … 33.5 c by UTC half-hour),
        # not the last of them
        live = [s.span.start for s in plan.slots if s.general.source not in (Source.CARRIED,)]
        assert len(live) == 20
        expected = statistics.median(hour_price(start) for start in live)
        assert all(slot.buy == round(expected / 100, 4) for slot in carried)
        last_known = [slot for slot in plan.slots if slot.general.source is Source.FORECAST][-1]
        assert last_known.buy != carried[0].buy

    def test_a_spike_in_the_last_forecast_slot_is_never_carried(self) -> None:
        payload = site_payload(self.now, hours_ahead=14, buy=20.0)
        last = max(
            (item for item in payload if item["channelType"] == "general"),
            key=lambda item: item["endTime"],
        )
        last.update(perKwh=1500.0, spikeStatus="spike", advancedPrice=None)
        potential = sorted(
            (item for item in payload if item["channelType"] == "general"),
            key=lambda item: item["endTime"],
        )[-2]
        potential.update(perKwh=900.0, spikeStatus="potential", advancedPrice=None)
        plan = plan_of(payload, "Australia/Brisbane", self.now)
        carried = [slot for slot in plan.slots if slot.general.source is Source.CARRIED]
        assert len(carried) == 20
        assert {slot.buy for slot in carried} == {0.2}
        assert max(slot.buy for slot in plan.slots) == 15.0  # the spike itself is still priced


def test_negative_buy_and_customer_pays_feed_in_clamp_to_zero() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    plan = plan_of(site_payload(now, buy=-4.5, sell=3.2), "Australia/Brisbane", now)
    for slot in plan.slots:
        assert (slot.buy, slot.sell) == (0.0, 0.0)
        assert slot.buy_clamped and slot.sell_clamped


def test_feed_in_sign_and_sell_cap() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    payload = site_payload(now, buy=25.0, sell=-40.0)
    capped = plan_of(payload, "Australia/Brisbane", now)
    assert {(s.buy, s.sell) for s in capped.slots} == {(0.25, 0.25)}
    assert all(s.sell_capped for s in capped.slots)
    allowed = plan_of(payload, "Australia/Brisbane", now, allow_sell_above_buy=True)
    assert {(s.buy, s.sell) for s in allowed.slots} == {(0.25, 0.4)}


def test_spike_ahead_is_priced_and_flagged() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    payload = site_payload(now, buy=30.0, sell=-10.0)
    for item in payload:
        if item["endTime"] == "2025-07-17T08:30:00Z":  # 18:00–18:30 local
            item["spikeStatus"] = "spike" if item["channelType"] == "general" else "potential"
            item["perKwh"] = 1234.5 if item["channelType"] == "general" else -1100.0
            item["advancedPrice"]["predicted"] = item["perKwh"]
    slot = by_label(plan_of(payload, "Australia/Brisbane", now))["18:00"]
    assert (slot.buy, slot.sell) == (12.345, 11.0)
    assert slot.spike == "spike"


class TestGaps:
    now = utc("2025-07-17T12:05:00+10:00")  # 02:05Z

    def missing(self, count: int, first: str = "2025-07-17T06:00") -> list[dt.datetime]:
        return [utc(first) + M30 * i for i in range(count)]

    def test_gaps_up_to_the_limit_are_filled_from_the_previous_slot(self) -> None:
        payload = without(site_payload(self.now, buy=hour_price), *self.missing(4))
        plan = plan_of(payload, "Australia/Brisbane", self.now)
        slots = by_label(plan)
        before = slots["15:30"]
        assert before.buy == round(hour_price(utc("2025-07-17T05:30")) / 100, 4)
        for label in ("16:00", "16:30", "17:00", "17:30"):
            assert slots[label].general.source is Source.GAP_FILLED
            assert slots[label].buy == before.buy
        assert slots["18:00"].general.source is Source.FORECAST

    def test_one_gap_over_the_limit_refuses_and_names_the_slots(self) -> None:
        payload = without(site_payload(self.now, buy=hour_price), *self.missing(5))
        result = run_fold(payload, "Australia/Brisbane", self.now)
        assert isinstance(result, Refusal)
        assert [span.label for span in result.missing["general"]] == [
            "16:00",
            "16:30",
            "17:00",
            "17:30",
            "18:00",
        ]
        assert "feedIn" not in result.missing

    def test_gaps_are_counted_per_channel(self) -> None:
        payload = without(site_payload(self.now), *self.missing(3))
        payload = without(payload, *self.missing(3, "2025-07-17T09:00"), channel="feedIn")
        assert not isinstance(run_fold(payload, "Australia/Brisbane", self.now), Refusal)
        payload = without(payload, *self.missing(2, "2025-07-17T11:00"), channel="feedIn")
        result = run_fold(payload, "Australia/Brisbane", self.now)
        assert isinstance(result, Refusal)
        assert set(result.missing) == {"feedIn"}

    def test_a_leading_gap_is_filled_from_the_next_slot(self) -> None:
        payload = without(site_payload(self.now, buy=hour_price), utc("2025-07-17T02:00"))
        slots = by_label(plan_of(payload, "Australia/Brisbane", self.now))
        assert slots["12:00"].general.source is Source.GAP_FILLED
        assert slots["12:00"].buy == slots["12:30"].buy

    def test_max_gap_slots_option(self) -> None:
        payload = without(site_payload(self.now), *self.missing(5))
        assert isinstance(
            run_fold(payload, "Australia/Brisbane", self.now, max_gap_slots=4), Refusal
        )
        assert not isinstance(
            run_fold(payload, "Australia/Brisbane", self.now, max_gap_slots=5), Refusal
        )

    def test_no_general_data_at_all_refuses(self) -> None:
        payload = [i for i in site_payload(self.now) if i["channelType"] != "general"]
        result = run_fold(payload, "Australia/Brisbane", self.now)
        assert isinstance(result, Refusal)
        assert len(result.missing["general"]) == 48


def test_no_feed_in_channel_sells_at_zero_and_is_not_a_gap() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    plan = plan_of(site_payload(now, sell=None), "Australia/Brisbane", now)
    assert not plan.has_feed_in
    assert all(slot.sell == 0.0 and slot.feed_in is None for slot in plan.slots)


class TestForecastPrice:
    now = utc("2025-07-17T12:05:00+10:00")

    def payload(self, advanced: float | None) -> list[dict[str, object]]:
        return [
            interval(utc("2025-07-17T02:00") + M30 * i, 30.0, advanced=advanced, kind=kind)
            for i, kind in enumerate(["CurrentInterval"] + ["ForecastInterval"] * 47)
        ]

    def test_predicted_is_the_default_for_forecasts_only(self) -> None:
        slots = by_label(plan_of(self.payload(advanced=22.0), "Australia/Brisbane", self.now))
        assert slots["12:00"].buy == 0.30  # the current interval uses perKwh
        assert slots["12:30"].buy == 0.22

    @pytest.mark.parametrize(
        ("option", "expected"), [("low", 0.205), ("high", 0.245), ("per_kwh", 0.30)]
    )
    def test_other_choices(self, option: str, expected: float) -> None:
        plan = plan_of(self.payload(22.0), "Australia/Brisbane", self.now, forecast_price=option)
        assert by_label(plan)["12:30"].buy == expected

    def test_forecasts_without_advanced_price_use_per_kwh(self) -> None:
        plan = plan_of(self.payload(advanced=None), "Australia/Brisbane", self.now)
        slot = by_label(plan)["12:30"]
        assert slot.buy == 0.30
        assert slot.general.per_kwh_fallback


def test_controlled_load_is_ignored() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    payload = site_payload(now, buy=hour_price)
    baseline = rates(plan_of(payload, "Australia/Brisbane", now))
    loaded = [*payload, *[dict(i, channelType="controlledLoad", perKwh=999.0) for i in payload]]
    assert rates(plan_of(loaded, "Australia/Brisbane", now)) == baseline


def test_intervals_out_of_order_give_the_same_tariff() -> None:
    now = utc("2025-07-17T10:07:00+10:00")
    payload = site_payload(now, buy=hour_price, five_minute_hours=1, hours_back=1)
    shuffled = list(payload)
    random.Random(7).shuffle(shuffled)
    assert (
        plan_of(shuffled, "Australia/Brisbane", now).body
        == plan_of(payload, "Australia/Brisbane", now).body
    )


def test_unknown_interval_types_are_ignored() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    payload = site_payload(now, buy=hour_price)
    odd = [dict(i, type="FutureInterval", perKwh=999.0) for i in payload[:10]]
    assert rates(plan_of(payload + odd, "Australia/Brisbane", now)) == rates(
        plan_of(payload, "Australia/Brisbane", now)
    )


def test_rates_are_rounded_to_four_decimals() -> None:
    now = utc("2025-07-17T12:05:00+10:00")
    plan = plan_of(site_payload(now, buy=23.456789, sell=-7.654321), "Australia/Brisbane", now)
    assert {(s.buy, s.sell) for s in plan.slots} == {(0.2346, 0.0765)}


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run_fold(
            site_payload(utc("2025-07-17T02:05")),
            "Australia/Brisbane",
            dt.datetime(2025, 7, 17, 12),
        )

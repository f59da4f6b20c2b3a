"""Hand-computed checks of the reference fold itself (it must be trusted before it judges)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .reference_fold import (
    LABELS,
    ReferenceRefusal,
    ReferenceResult,
    reference_fold,
)

BRISBANE = ZoneInfo("Australia/Brisbane")  # UTC+10, no daylight saving
SYDNEY = ZoneInfo("Australia/Sydney")
NEM = timezone(timedelta(hours=10))


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def interval(
    channel: str,
    start: datetime,
    minutes: int,
    price: float,
    kind: str = "ForecastInterval",
    *,
    spike: str = "none",
    advanced: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A raw Amber interval dict, shaped like the API's (startTime is start + 1 s)."""
    end = start + timedelta(minutes=minutes)
    raw: dict[str, Any] = {
        "type": kind,
        "date": (start.astimezone(NEM)).date().isoformat(),
        "duration": minutes,
        "startTime": _z(start + timedelta(seconds=1)),
        "endTime": _z(end),
        "nemTime": end.astimezone(NEM).isoformat(),
        "perKwh": price,
        "spotPerKwh": price * 0.8,
        "renewables": 40.0,
        "channelType": channel,
        "spikeStatus": spike,
        "descriptor": "neutral",
    }
    if kind == "CurrentInterval":
        raw["estimate"] = True
    if advanced is not None:
        raw["advancedPrice"] = advanced
    return raw


def bne(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 7, day, hour, minute, second, tzinfo=BRISBANE)


def ok(result: ReferenceResult | ReferenceRefusal) -> ReferenceResult:
    assert isinstance(result, ReferenceResult), result
    return result


# --------------------------------------------------------------------------- 30-minute site


def test_brisbane_30_minute_site_and_forecast_price_choice() -> None:
    # now 08:40 Brisbane -> current slot 08:30-09:00, floor5(now) = 08:40.
    now = bne(17, 8, 40)
    intervals = [
        interval("general", bne(17, 8, 30), 30, 20.0, "CurrentInterval"),
        interval(
            "general",
            bne(17, 9, 0),
            30,
            30.0,
            advanced={"low": 22.0, "predicted": 25.0, "high": 28.0},
        ),
        interval("general", bne(17, 9, 30), 30, 40.0),  # no advancedPrice -> perKwh
        interval("controlledLoad", bne(17, 9, 30), 30, 999.0),  # ignored
        interval("general", bne(17, 9, 30), 30, 999.0, "Usage"),  # unknown type: ignored
    ]
    result = ok(reference_fold(intervals, "Australia/Brisbane", now))

    # Slots map to the coming 24 h: 08:30 is today, 08:00 is tomorrow.
    assert result.spans["PERIOD_08_30"][0] == bne(17, 8, 30)
    assert result.spans["PERIOD_08_00"][0] == bne(18, 8, 0)
    assert result.spans["PERIOD_00_00"][0] == bne(18, 0, 0)

    assert result.rates["PERIOD_08_30"] == (0.20, 0.0)  # Current perKwh 20 c; no feedIn -> 0
    assert result.rates["PERIOD_09_00"] == (0.25, 0.0)  # advancedPrice.predicted 25 c
    assert result.rates["PERIOD_09_30"] == (0.40, 0.0)  # perKwh 40 c
    # Everything from 10:00 on is beyond the horizon (latest end 10:00); no history at all, so
    # a typical in-horizon value is carried forward: the median of 20, 25 and 40 c.
    assert result.rates["PERIOD_10_00"] == (0.25, 0.0)
    assert result.rates["PERIOD_08_00"] == (0.25, 0.0)
    assert result.estimated == set(LABELS) - {"PERIOD_08_30", "PERIOD_09_00", "PERIOD_09_30"}
    assert result.gap_filled == set()

    high = ok(reference_fold(intervals, "Australia/Brisbane", now, forecast_price="high"))
    assert high.rates["PERIOD_09_00"] == (0.28, 0.0)
    raw = ok(reference_fold(intervals, "Australia/Brisbane", now, forecast_price="per_kwh"))
    assert raw.rates["PERIOD_09_00"] == (0.30, 0.0)


# --------------------------------------------------------------------------- 5-minute averaging


def test_five_minute_intervals_are_averaged_into_a_slot() -> None:
    # now 08:02 -> floor5 = 08:00 = slot start, so no truncation.
    now = bne(17, 8, 2)
    kinds = ["ActualInterval", "CurrentInterval"] + ["ForecastInterval"] * 4
    prices = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    intervals = [
        interval("general", bne(17, 8, 5 * i), 5, price, kind)
        for i, (price, kind) in enumerate(zip(prices, kinds, strict=True))
    ]
    # 08:30-09:00 mixes one 5-minute interval (08:30-08:35, 90 c) and, overlapping it as Amber
    # never does but the rule allows, a 30-minute one (08:30-09:00, 30 c).
    intervals.append(interval("general", bne(17, 8, 30), 5, 90.0))
    intervals.append(interval("general", bne(17, 8, 30), 30, 30.0))
    result = ok(reference_fold(intervals, "Australia/Brisbane", now))
    # (10+20+30+40+50+60) * 300 s / 1800 s = 35 c
    assert result.rates["PERIOD_08_00"] == (0.35, 0.0)
    # (90 * 300 + 30 * 1800) / (300 + 1800) = (27000 + 54000) / 2100 = 38.5714... c
    assert result.rates["PERIOD_08_30"] == (0.3857, 0.0)
    assert result.cents["general"]["PERIOD_08_30"] == 81000 / 2100


def test_current_slot_counts_only_from_now_floored_to_5_minutes() -> None:
    # now 08:17:30 -> floor5 = 08:15; only 08:15-08:30 of the current slot counts.
    now = bne(17, 8, 17, 30)
    prices = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    intervals = [
        interval("general", bne(17, 8, 5 * i), 5, price, "ActualInterval")
        for i, price in enumerate(prices)
    ]
    result = ok(reference_fold(intervals, "Australia/Brisbane", now))
    # (40 + 50 + 60) / 3 = 50 c, not the whole-slot 35 c.
    assert result.rates["PERIOD_08_00"] == (0.50, 0.0)
    assert result.cents["general"]["PERIOD_08_00"] == 50.0


# --------------------------------------------------------------------------- sign and clamps


def test_feed_in_sign_flip_and_clamps() -> None:
    now = bne(17, 8, 0)
    general = [30.0, 10.0, -5.0]
    feed_in = [-8.0, -15.0, 3.0]
    intervals = [
        interval("general", bne(17, 8) + timedelta(minutes=30 * i), 30, price)
        for i, price in enumerate(general)
    ] + [
        interval("feedIn", bne(17, 8) + timedelta(minutes=30 * i), 30, price)
        for i, price in enumerate(feed_in)
    ]
    result = ok(reference_fold(intervals, "Australia/Brisbane", now))
    # 08:00: buy 30 c -> 0.30; feed-in -8 c (customer paid 8 c) -> sell 0.08.
    assert result.rates["PERIOD_08_00"] == (0.30, 0.08)
    # 08:30: sell 0.15 > buy 0.10 -> sell lowered to 0.10.
    assert result.rates["PERIOD_08_30"] == (0.10, 0.10)
    # 09:00: buy -0.05 -> 0; feed-in +3 c (customer charged) -> sell -0.03 -> 0.
    assert result.rates["PERIOD_09_00"] == (0.0, 0.0)
    # Beyond the horizon both channels carry their median forward: buy 10 c (of 30, 10, -5) and
    # feed-in -8 c (of -8, -15, 3), so sell 0.08.
    assert result.rates["PERIOD_12_00"] == (0.10, 0.08)
    assert result.estimated_by_channel["feedIn"] == result.estimated_by_channel["general"]

    allowed = ok(reference_fold(intervals, "Australia/Brisbane", now, allow_sell_above_buy=True))
    assert allowed.rates["PERIOD_08_30"] == (0.10, 0.15)


# --------------------------------------------------------------------------- gaps and refusal


def test_gap_filled_from_previous_slot_and_leading_gap_from_next() -> None:
    # now 08:10: slot 08:00 has no data (leading gap), 08:30 = 20 c, 09:00 missing (gap),
    # 09:30 = 40 c.
    now = bne(17, 8, 10)
    intervals = [
        interval("general", bne(17, 8, 30), 30, 20.0),
        interval("general", bne(17, 9, 30), 30, 40.0),
    ]
    result = ok(reference_fold(intervals, "Australia/Brisbane", now))
    assert result.rates["PERIOD_08_00"] == (0.20, 0.0)  # leading gap <- next slot (08:30)
    assert result.rates["PERIOD_09_00"] == (0.20, 0.0)  # gap <- previous slot (08:30)
    assert result.rates["PERIOD_09_30"] == (0.40, 0.0)
    assert result.gap_filled == {"PERIOD_08_00", "PERIOD_09_00"}
    assert "PERIOD_10_00" in result.estimated
    # carried: the median of the slots with data of their own (20 and 40 c), gap fills left out
    assert result.rates["PERIOD_10_00"] == (0.30, 0.0)


def test_refusal_when_a_channel_has_too_many_gaps() -> None:
    # Data at 08:00 and 11:00 only: 08:30, 09:00, 09:30, 10:00, 10:30 are 5 gaps (> 4).
    now = bne(17, 8, 0)
    intervals = [
        interval("general", bne(17, 8, 0), 30, 20.0),
        interval("general", bne(17, 11, 0), 30, 40.0),
        interval("feedIn", bne(17, 8, 0), 30, -5.0),
        interval("feedIn", bne(17, 8, 30), 30, -5.0),
    ]
    result = reference_fold(intervals, "Australia/Brisbane", now)
    assert isinstance(result, ReferenceRefusal)
    assert result.missing == {
        "general": ["PERIOD_08_30", "PERIOD_09_00", "PERIOD_09_30", "PERIOD_10_00", "PERIOD_10_30"]
    }
    # With a higher limit the same data folds, the gaps taking 08:00's 20 c.
    folded = ok(reference_fold(intervals, "Australia/Brisbane", now, max_gap_slots=5))
    assert folded.rates["PERIOD_10_30"] == (0.20, 0.05)
    assert folded.rates["PERIOD_11_00"] == (0.40, 0.05)

    # No general channel at all: refuse with every label missing.
    only_feed_in = reference_fold(intervals[2:], "Australia/Brisbane", now)
    assert isinstance(only_feed_in, ReferenceRefusal)
    assert only_feed_in.missing == {"general": sorted(LABELS)}


# --------------------------------------------------------------------------- persistence


def test_persistence_estimate_with_spike_replaced_by_day_median() -> None:
    # now 08:10 on the 17th. Actuals 00:00-08:00 on the 17th: 30-minute, price 10 + i for the
    # i-th (i = 0..15) except i = 6 (03:00) which is a 500 c spike. Forecasts 08:00-24:00 at 20 c.
    # Labels 00:00-07:30 map to the 18th, beyond the horizon (latest end = 18th 00:00).
    now = bne(17, 8, 10)
    intervals = []
    for i in range(16):
        start = bne(17, 0) + timedelta(minutes=30 * i)
        if i == 6:
            intervals.append(interval("general", start, 30, 500.0, "ActualInterval", spike="spike"))
        else:
            intervals.append(interval("general", start, 30, 10.0 + i, "ActualInterval"))
    intervals += [
        interval("general", bne(17, 8) + timedelta(minutes=30 * i), 30, 20.0) for i in range(32)
    ]
    result = ok(reference_fold(intervals, "Australia/Brisbane", now))
    assert result.estimated == {f"PERIOD_{h:02d}_{m:02d}" for h in range(8) for m in (0, 30)}
    assert result.rates["PERIOD_00_00"] == (0.10, 0.0)  # 17th 00:00 actual, 10 c
    assert result.rates["PERIOD_02_30"] == (0.15, 0.0)  # i = 5
    assert result.rates["PERIOD_07_30"] == (0.25, 0.0)  # i = 15
    # Spike at 03:00 -> median of the 17th's non-spike prices: 15 actuals {10..25} \ {16} and
    # 32 forecasts at 20 -> 47 values; sorted: 10..15, 17, 18, 19 (9 values) then 33 x 20, so
    # the 24th value (the median) is 20.
    assert result.rates["PERIOD_03_00"] == (0.20, 0.0)
    assert result.carried_forward_by_channel["general"] == set()


# --------------------------------------------------------------------------- daylight saving


def test_sydney_dst_start_labels_take_neighbouring_half_hours() -> None:
    # 2025-10-05: 02:00 AEST (UTC+10) jumps to 03:00 AEDT (UTC+11).
    # 01:30 AEST = 2025-10-04T15:30Z; 03:00 AEDT = 2025-10-04T16:00Z.
    now = datetime(2025, 10, 5, 0, 10, tzinfo=SYDNEY)  # = 2025-10-04T14:10Z
    assert now.astimezone(UTC) == datetime(2025, 10, 4, 14, 10, tzinfo=UTC)
    base = datetime(2025, 10, 4, 14, 0, tzinfo=UTC)
    prices = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]  # 14:00Z, 14:30Z, ..., 16:30Z
    intervals = [
        interval("general", base + timedelta(minutes=30 * i), 30, price)
        for i, price in enumerate(prices)
    ]
    result = ok(reference_fold(intervals, "Australia/Sydney", now))
    spans = {label: span[0] for label, span in result.spans.items()}
    assert spans["PERIOD_01_30"] == datetime(2025, 10, 4, 15, 30, tzinfo=UTC)
    assert spans["PERIOD_02_00"] == datetime(2025, 10, 4, 15, 30, tzinfo=UTC)  # <- 01:30
    assert spans["PERIOD_02_30"] == datetime(2025, 10, 4, 16, 0, tzinfo=UTC)  # <- 03:00
    assert spans["PERIOD_03_00"] == datetime(2025, 10, 4, 16, 0, tzinfo=UTC)
    assert result.rates["PERIOD_00_00"] == (0.10, 0.0)
    assert result.rates["PERIOD_01_00"] == (0.12, 0.0)
    assert result.rates["PERIOD_01_30"] == (0.13, 0.0)
    assert result.rates["PERIOD_02_00"] == (0.13, 0.0)
    assert result.rates["PERIOD_02_30"] == (0.14, 0.0)
    assert result.rates["PERIOD_03_00"] == (0.14, 0.0)
    assert result.rates["PERIOD_03_30"] == (0.15, 0.0)
    # Latest end 17:00Z = 04:00 AEDT: later labels are estimated, carrying the median of the
    # eight slots with data (10, 11, 12, 13, 13, 14, 14, 15 c): 13 c.
    assert result.rates["PERIOD_04_00"] == (0.13, 0.0)
    assert "PERIOD_03_30" not in result.estimated
    assert "PERIOD_04_00" in result.estimated


def test_sydney_dst_end_labels_take_earliest_occurrence_at_or_after_current_slot() -> None:
    # 2025-04-06: 03:00 AEDT (UTC+11) falls back to 02:00 AEST (UTC+10).
    # 02:00 AEDT = 15:00Z, 02:30 AEDT = 15:30Z, 02:00 AEST = 16:00Z, 02:30 AEST = 16:30Z,
    # 03:00 AEST = 17:00Z (all on 2025-04-05 UTC).
    def utc(hour: int, minute: int = 0) -> datetime:
        return datetime(2025, 4, 5, hour, minute, tzinfo=UTC)

    intervals = [
        interval("general", utc(15, 30), 30, 20.0, "CurrentInterval"),
        interval("general", utc(16, 0), 30, 21.0),
        interval("general", utc(16, 30), 30, 22.0),
        interval("general", utc(17, 0), 30, 23.0),
    ]

    # Before the change (00:10 AEDT = 13:10Z): both labels take the first (AEDT) occurrence.
    # (00:00-02:00 AEDT are 5 leading gaps here, so allow them rather than refuse.)
    early = ok(reference_fold(intervals, "Australia/Sydney", utc(13, 10), max_gap_slots=5))
    assert early.spans["PERIOD_02_00"][0] == utc(15, 0)
    assert early.spans["PERIOD_02_30"][0] == utc(15, 30)
    assert early.spans["PERIOD_03_00"][0] == utc(17, 0)
    assert early.gap_filled == {
        "PERIOD_00_00",
        "PERIOD_00_30",
        "PERIOD_01_00",
        "PERIOD_01_30",
        "PERIOD_02_00",
    }
    assert early.rates["PERIOD_02_00"] == (0.20, 0.0)  # leading gap <- 02:30 AEDT (20 c)

    # now = 02:40 AEDT (first pass) = 15:40Z: current slot is 02:30 AEDT (15:30Z). 02:00 AEDT is
    # past, so label 02:00 takes the second occurrence, 02:00 AEST (16:00Z). 02:30 AEST (16:30Z)
    # is no slot's span, so its 22 c is not used.
    now = utc(15, 40)
    assert now.astimezone(SYDNEY).replace(tzinfo=None) == datetime(2025, 4, 6, 2, 40)
    result = ok(reference_fold(intervals, "Australia/Sydney", now))
    assert result.spans["PERIOD_02_30"][0] == utc(15, 30)
    assert result.spans["PERIOD_02_00"][0] == utc(16, 0)
    assert result.spans["PERIOD_03_00"][0] == utc(17, 0)
    assert result.rates["PERIOD_02_30"] == (0.20, 0.0)  # current slot, from 15:40Z
    assert result.rates["PERIOD_02_00"] == (0.21, 0.0)
    assert result.rates["PERIOD_03_00"] == (0.23, 0.0)
    # 03:30 AEST (17:30Z) onwards is beyond the horizon: carry the median of 20, 21 and 23 c
    # forward. 00:00 maps to 2025-04-07 00:00 AEST = 2025-04-06T14:00Z.
    assert result.spans["PERIOD_00_00"][0] == datetime(2025, 4, 6, 14, 0, tzinfo=UTC)
    assert result.rates["PERIOD_03_30"] == (0.21, 0.0)
    assert result.rates["PERIOD_00_00"] == (0.21, 0.0)
    assert result.estimated == set(LABELS) - {"PERIOD_02_00", "PERIOD_02_30", "PERIOD_03_00"}

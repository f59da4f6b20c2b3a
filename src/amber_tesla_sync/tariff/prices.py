"""Rules 2, 5 and 6 for one channel: interval prices → one value per slot (c/kWh).

Works on a channel's intervals and the slot spans; signs, units and clamps come later.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import ACTUAL, CURRENT, FORECAST, AdvancedPrice, Interval
from amber_tesla_sync.tariff.model import LIVE, ChannelValue, ForecastPrice, SlotSpan, Source
from amber_tesla_sync.tariff.slots import HALF_HOUR, floor_to, label_instants

PERSISTENCE_DAYS = 7
_SPIKE_ORDER = {"none": 0, "potential": 1, "spike": 2}
EXTREME = frozenset({"spike", "potential"})
"""Spike statuses an estimate never takes a price from: an estimate is a typical day."""
SUSPECT_BAND_CENTS = 1.0
"""A forecast band of all zeros while ``perKwh`` is at least this far from 0 is a broken band."""
NEAR_ZERO_CENTS = 0.5
"""A predicted price closer to 0 than this (c/kWh) ..."""
FAR_FROM_PER_KWH_CENTS = 10.0
"""... while ``perKwh`` is at least this far from it is a broken band: the "$0 night" of a band
left at zero, not a forecast of free energy."""


@dataclass(frozen=True)
class PricedInterval:
    """An interval reduced to what the fold needs, with its rule-2 price."""

    start: dt.datetime
    end: dt.datetime
    price: float  # c/kWh
    kind: str  # ACTUAL | CURRENT | FORECAST
    spike: str
    per_kwh_fallback: bool


def interval_price(item: Interval, forecast_price: ForecastPrice) -> tuple[float, bool]:
    """Rule 2. Returns the price and whether a forecast fell back to ``perKwh``: it has no
    ``advancedPrice``, or a broken one (:func:`broken_band`; taken as a missing band, never as a
    free hour)."""
    if item.type != FORECAST or forecast_price == "per_kwh":
        return item.per_kwh, False
    band = item.advanced_price
    if band is None or broken_band(band, item.per_kwh):
        return item.per_kwh, True
    return getattr(band, forecast_price), False


def broken_band(band: AdvancedPrice, per_kwh: float) -> bool:
    """Rule 11: a band not trusted over ``perKwh``. All zeros while ``perKwh`` is at least
    :data:`SUSPECT_BAND_CENTS` from 0; a predicted price outside its own band (between ``low``
    and ``high``, in either order: the feed-in band is reversed); or a predicted price within
    :data:`NEAR_ZERO_CENTS` of 0 while ``perKwh`` is :data:`FAR_FROM_PER_KWH_CENTS` or more
    away from it."""
    if band.all_zero:
        return abs(per_kwh) >= SUSPECT_BAND_CENTS
    predicted = band.predicted
    if not min(band.low, band.high) <= predicted <= max(band.low, band.high):
        return True
    return abs(predicted) < NEAR_ZERO_CENTS and abs(per_kwh - predicted) >= FAR_FROM_PER_KWH_CENTS


def spike_of(item: Interval) -> str:
    """The interval's spike status, where a ``spike`` descriptor counts as a spike whatever
    ``spikeStatus`` says (an estimate never copies a price Amber describes as a spike)."""
    if item.descriptor == "spike" and item.spike_status not in EXTREME:
        return "spike"
    return item.spike_status


def priced(items: Sequence[Interval], forecast_price: ForecastPrice) -> list[PricedInterval]:
    """Known interval types only, in time order (the input may be in any order)."""
    result = []
    for item in items:
        if item.type not in (ACTUAL, CURRENT, FORECAST):
            continue
        price, fallback = interval_price(item, forecast_price)
        result.append(
            PricedInterval(item.start, item.end, price, item.type, spike_of(item), fallback)
        )
    result.sort(key=lambda p: (p.start, p.end))
    return result


@dataclass
class ChannelSeries:
    """One value per slot (``None`` where refused) and the gap slots found."""

    values: list[ChannelValue | None]
    gaps: list[SlotSpan]
    unknown: list[SlotSpan]  # beyond the horizon with nothing to estimate from


def _overlap_seconds(start: dt.datetime, end: dt.datetime, item: PricedInterval) -> float:
    return max(0.0, (min(end, item.end) - max(start, item.start)).total_seconds())


class Timeline:
    """Intervals in time order, with fast look-up of those overlapping a span."""

    def __init__(self, items: Sequence[PricedInterval]) -> None:
        self.items = sorted(items, key=lambda p: (p.start, p.end))
        self.starts = [item.start for item in self.items]
        self.longest = max((item.end - item.start for item in self.items), default=dt.timedelta())
        self._medians: dict[dt.date, float | None] = {}

    def overlapping(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[PricedInterval, float]]:
        """(interval, overlap seconds) for every interval overlapping [start, end)."""
        weighted = []
        for index in range(bisect.bisect_left(self.starts, start - self.longest), len(self.items)):
            item = self.items[index]
            if item.start >= end:
                break
            seconds = _overlap_seconds(start, end, item)
            if seconds > 0:
                weighted.append((item, seconds))
        return weighted

    def day_median(self, day: dt.date, zone: ZoneInfo) -> float | None:
        """The median price of the intervals starting on local ``day``, spikes (and potential
        spikes) left out."""
        if day not in self._medians:
            first = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
            last = dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time(), tzinfo=zone
            ).astimezone(dt.UTC)
            low = bisect.bisect_left(self.starts, first)
            high = bisect.bisect_left(self.starts, last)
            prices = [item.price for item in self.items[low:high] if item.spike not in EXTREME]
            self._medians[day] = _median(prices)
        return self._medians[day]


def effective_start(span: SlotSpan, now: dt.datetime) -> dt.datetime:
    """Rule 5: in the slot containing ``now`` only the part from ``now`` floored to 5 min counts."""
    if span.start <= now < span.end:
        return max(span.start, floor_to(now, 5))
    return span.start


def _slot_value(weighted: Sequence[tuple[PricedInterval, float]]) -> ChannelValue:
    total = sum(seconds for _, seconds in weighted)
    price = sum(item.price * seconds for item, seconds in weighted) / total
    kinds = {item.kind for item, _ in weighted}
    source = (
        Source.CURRENT
        if CURRENT in kinds
        else Source.FORECAST
        if FORECAST in kinds
        else Source.ACTUAL
    )
    spike = max((item.spike for item, _ in weighted), key=lambda s: _SPIKE_ORDER.get(s, 0))
    fallback = any(item.per_kwh_fallback for item, _ in weighted)
    return ChannelValue(price, source, spike if spike in _SPIKE_ORDER else "none", fallback)


def channel_series(
    items: Sequence[PricedInterval],
    spans: Sequence[SlotSpan],
    now: dt.datetime,
    zone: ZoneInfo,
    history: Callable[[], Sequence[PricedInterval]],
) -> ChannelSeries:
    """Rules 5 and 6 for one channel over ``spans`` (in time order). ``history`` gives the older
    intervals; it is called only for slots beyond the horizon."""
    timeline = Timeline(items)
    horizon_end = max((item.end for item in items), default=None)
    values: list[ChannelValue | None] = []
    gaps: list[int] = []
    beyond: list[int] = []
    for index, span in enumerate(spans):
        start = effective_start(span, now)
        weighted = timeline.overlapping(start, span.end)
        if weighted:
            values.append(_slot_value(weighted))
            continue
        values.append(None)
        if horizon_end is not None and start < horizon_end:
            gaps.append(index)
        else:
            beyond.append(index)
    _fill_gaps(values, gaps)
    if beyond:
        timeline = Timeline([*items, *history()])
    unknown = _estimate(values, beyond, spans, zone, timeline)
    gap_spans = [spans[index] for index in gaps]
    return ChannelSeries(values=values, gaps=gap_spans, unknown=unknown)


def _fill_gaps(values: list[ChannelValue | None], gaps: Sequence[int]) -> None:
    """Rule 6: a gap takes the previous slot's value; a leading gap the next slot's."""
    gap_set = set(gaps)
    for index in gaps:
        earlier = (values[i] for i in range(index - 1, -1, -1))
        later = (values[i] for i in range(index + 1, len(values)) if i not in gap_set)
        donor = next((v for v in earlier if v is not None), None) or next(
            (v for v in later if v is not None), None
        )
        if donor is not None:
            values[index] = ChannelValue(donor.price, Source.GAP_FILLED)


def _estimate(
    values: list[ChannelValue | None],
    beyond: Sequence[int],
    spans: Sequence[SlotSpan],
    zone: ZoneInfo,
    known: Timeline,
) -> list[SlotSpan]:
    """Rule 6: persistence estimate for the slots beyond the horizon. Returns those left unknown."""
    if not beyond:
        return []
    carry = robust_value(values)
    unknown = []
    for index in beyond:
        estimate = _persistence(spans[index], zone, known)
        if estimate is not None:
            values[index] = ChannelValue(estimate, Source.ESTIMATED)
        elif carry is not None:
            values[index] = ChannelValue(carry, Source.CARRIED)
        else:
            unknown.append(spans[index])
    return unknown


def robust_value(values: Sequence[ChannelValue | None]) -> float | None:
    """What "carry the last known price forward" carries: the median of the slots priced from
    Amber's own data, spikes and potential spikes left out (never a spike, never one outlier)."""
    typical = [
        value.price
        for value in values
        if value is not None and value.source in LIVE and value.spike not in EXTREME
    ]
    return _median(typical)


def _median(prices: Sequence[float]) -> float | None:
    # imported here: loading the statistics module costs a sync about 0.6 MB, and only an
    # estimate beyond the forecast horizon needs a median
    from statistics import median

    return median(prices) if prices else None


def _persistence(span: SlotSpan, zone: ZoneInfo, known: Timeline) -> float | None:
    """The same local time of day on the most recent earlier day with data, spikes and potential
    spikes replaced by that day's median."""
    # the slot's label, not its instant: on the day daylight saving starts, label 02:00 stands
    # for 01:30's half-hour but is estimated from 02:00 on earlier days, like every other 02:00
    local_start = span.start.astimezone(zone)
    hours, minutes = span.label.split(":")
    minute_of_day = int(hours) * 60 + int(minutes)
    for days_back in range(1, PERSISTENCE_DAYS + 1):
        day = local_start.date() - dt.timedelta(days=days_back)
        candidates = label_instants(zone, day, minute_of_day)
        if not candidates:
            continue
        start = candidates[0]
        weighted = known.overlapping(start, start + HALF_HOUR)
        if not weighted:
            continue
        if any(item.spike in EXTREME for item, _ in weighted):
            median = known.day_median(day, zone)
            if median is None:
                continue
            weighted = [
                (item if item.spike not in EXTREME else _replaced(item, median), seconds)
                for item, seconds in weighted
            ]
        total = sum(seconds for _, seconds in weighted)
        return sum(item.price * seconds for item, seconds in weighted) / total
    return None


def _replaced(item: PricedInterval, price: float) -> PricedInterval:
    return PricedInterval(item.start, item.end, price, item.kind, "none", item.per_kwh_fallback)

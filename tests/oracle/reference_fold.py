"""Independent reference implementation ("oracle") of the tariff fold.

Written only from docs/DESIGN.md ("Tariff rules (the fold)", rules 1-8), docs/amber-api.md and
the interpretation decisions agreed for differential testing. It is deliberately plain: no
caching, no cleverness, every interval is looked at for every slot. Use it to check the
production fold, not to replace it.

Units: Amber prices are c/kWh; the result's rates are $/kWh (buy, sell) after clamps and
rounding. ``ReferenceResult.cents`` keeps the per-channel c/kWh values before sign, clamps and
rounding, for finer-grained comparisons.

Float note: the weighted mean is computed with ordinary float arithmetic and rates are rounded
with the builtin ``round(x, 4)``. A production implementation that sums in another order, or
rounds with ``Decimal``, can legitimately differ by one unit in the 4th decimal; compare rates
with a tolerance of about 1e-4 (see ``rates_close``).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SLOT = timedelta(minutes=30)
CHANNELS = ("general", "feedIn")
FORECAST_PRICE_OPTIONS = ("predicted", "low", "high", "per_kwh")
LABELS = tuple(f"PERIOD_{h:02d}_{m:02d}" for h in range(24) for m in (0, 30))
PERSISTENCE_DAYS = 7


@dataclass
class ReferenceResult:
    """A successful fold.

    rates: label -> ($/kWh buy, $/kWh sell), after clamps, rounded to 4 decimals.
    estimated: labels where some channel used the beyond-horizon fill (persistence estimate or
        carry-forward of the last in-horizon slot), union over general and feedIn.
    gap_filled: labels where some channel's gap was filled from a neighbouring slot.
    The remaining fields are extra detail for debugging a disagreement.
    """

    rates: dict[str, tuple[float, float]]
    estimated: set[str]
    gap_filled: set[str]
    estimated_by_channel: dict[str, set[str]] = field(default_factory=dict)
    carried_forward_by_channel: dict[str, set[str]] = field(default_factory=dict)
    gap_filled_by_channel: dict[str, set[str]] = field(default_factory=dict)
    cents: dict[str, dict[str, float]] = field(default_factory=dict)
    spans: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)


@dataclass
class ReferenceRefusal:
    """The fold refuses: missing maps channel -> labels (sorted) that could not be priced."""

    missing: dict[str, list[str]]


@dataclass(frozen=True)
class _Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    price: float  # c/kWh, rule 2
    spike: bool


@dataclass(frozen=True)
class _Slot:
    label: str
    hour: int
    minute: int
    start: datetime  # UTC
    end: datetime  # UTC
    effective_start: datetime  # UTC; later than start only for a slot containing now


@dataclass
class _ChannelFold:
    values: dict[str, float]  # label -> c/kWh (only labels that got a value)
    gaps: set[str]
    beyond: set[str]
    carried: set[str]
    missing: set[str]


# --------------------------------------------------------------------------- time helpers


def _floor(instant: datetime, minutes: int) -> datetime:
    """Floor an aware instant to a multiple of `minutes` in UTC (epoch-aligned)."""
    step = minutes * 60
    seconds = math.floor(instant.timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, UTC)


def _parse_instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset: {text!r}")
    return parsed.astimezone(UTC)


def _wall_instants(naive: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every real UTC instant whose local wall time in `zone` is `naive` (0, 1 or 2 of them)."""
    found: list[datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        round_trip = instant.astimezone(zone).replace(tzinfo=None)
        if round_trip == naive and instant not in found:
            found.append(instant)
    return sorted(found)


def _label_instants_on(day: date, hour: int, minute: int, zone: ZoneInfo) -> list[datetime]:
    """Candidate slot starts for wall time hour:minute on local date `day`.

    A wall time that does not exist that day (daylight-saving start) resolves to its neighbour:
    the half-hour before if that exists, otherwise the half-hour after.
    """
    naive = datetime(day.year, day.month, day.day, hour, minute)
    instants = _wall_instants(naive, zone)
    if instants:
        return instants
    before = _wall_instants(naive - SLOT, zone)
    if before:
        return before
    return _wall_instants(naive + SLOT, zone)


def _build_slots(zone: ZoneInfo, now: datetime) -> list[_Slot]:
    """The 48 labelled slots, sorted in time order (ties broken by label)."""
    current_start = _floor(now, 30)
    five = _floor(now, 5)
    first_day = current_start.astimezone(zone).date()
    slots: list[_Slot] = []
    for label in LABELS:
        hour, minute = int(label[7:9]), int(label[10:12])
        start = None
        for offset in range(4):
            day = first_day + timedelta(days=offset)
            candidates = [
                instant
                for instant in _label_instants_on(day, hour, minute, zone)
                if instant >= current_start
            ]
            if candidates:
                start = min(candidates)
                break
        if start is None:  # pragma: no cover - cannot happen for real zones
            raise AssertionError(f"no instant found for {label}")
        end = start + SLOT
        effective_start = max(start, five) if start <= now < end else start
        slots.append(_Slot(label, hour, minute, start, end, effective_start))
    slots.sort(key=lambda slot: (slot.start, slot.label))
    return slots


# --------------------------------------------------------------------------- intervals


def _broken_band(advanced: dict[str, Any], per_kwh: float) -> bool:
    """Rule 11: a band of zeros while perKwh is >= 1 c/kWh from 0; a predicted price outside
    [low, high] (either order); or one within 0.5 c/kWh of 0 while perKwh is >= 10 c/kWh away."""
    low, predicted, high = (float(advanced[band]) for band in ("low", "predicted", "high"))
    if low == predicted == high == 0:
        return abs(per_kwh) >= 1.0
    if predicted < min(low, high) or predicted > max(low, high):
        return True
    return abs(predicted) < 0.5 and abs(per_kwh - predicted) >= 10.0


def _rule2_price(raw: dict[str, Any], forecast_price: str) -> float | None:
    """Rule 2; None for an interval type the fold does not use."""
    kind = raw.get("type")
    if kind in ("ActualInterval", "CurrentInterval"):
        return float(raw["perKwh"])
    if kind == "ForecastInterval":
        if forecast_price == "per_kwh":
            return float(raw["perKwh"])
        advanced = raw.get("advancedPrice")
        if isinstance(advanced, dict) and _broken_band(advanced, float(raw["perKwh"])):
            return float(raw["perKwh"])  # a band not trusted over perKwh (rule 11)
        if isinstance(advanced, dict) and advanced.get(forecast_price) is not None:
            return float(advanced[forecast_price])
        return float(raw["perKwh"])
    return None


def _channel_intervals(
    intervals: list[dict[str, Any]], forecast_price: str
) -> dict[str, list[_Interval]]:
    by_channel: dict[str, list[_Interval]] = {channel: [] for channel in CHANNELS}
    for raw in intervals:
        channel = raw.get("channelType")
        if channel not in by_channel:
            continue
        price = _rule2_price(raw, forecast_price)
        if price is None:
            continue
        end = _parse_instant(raw["endTime"])  # rule 1: never startTime
        start = end - timedelta(minutes=int(raw["duration"]))
        # an estimate is a typical day: potential spikes are treated like spikes there
        spike = raw.get("spikeStatus") in ("spike", "potential") or raw.get("descriptor") == "spike"
        by_channel[channel].append(_Interval(start, end, price, spike))
    return by_channel


def _overlap_seconds(
    a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime
) -> float:
    return (min(a_end, b_end) - max(a_start, b_start)).total_seconds()


# --------------------------------------------------------------------------- persistence


def _day_median_non_spike(intervals: list[_Interval], day: date, zone: ZoneInfo) -> float | None:
    prices = [
        interval.price
        for interval in intervals
        if not interval.spike and interval.start.astimezone(zone).date() == day
    ]
    if not prices:
        return None
    return statistics.median(prices)


def _persistence_estimate(intervals: list[_Interval], slot: _Slot, zone: ZoneInfo) -> float | None:
    """Same local time of day on the most recent of the previous 7 local days that has data."""
    slot_day = slot.start.astimezone(zone).date()
    for back in range(1, PERSISTENCE_DAYS + 1):
        day = slot_day - timedelta(days=back)
        span_start = _label_instants_on(day, slot.hour, slot.minute, zone)[0]
        span_end = span_start + SLOT
        overlapping = [
            (interval, _overlap_seconds(span_start, span_end, interval.start, interval.end))
            for interval in intervals
        ]
        overlapping = [(interval, seconds) for interval, seconds in overlapping if seconds > 0]
        if not overlapping:
            continue
        median = None
        if any(interval.spike for interval, _ in overlapping):
            median = _day_median_non_spike(intervals, day, zone)
        numerator = 0.0
        denominator = 0.0
        for interval, seconds in overlapping:
            if interval.spike:
                if median is None:
                    # No non-spike price that day to replace the spike with: leave it out.
                    continue
                price = median
            else:
                price = interval.price
            numerator += price * seconds
            denominator += seconds
        if denominator > 0:
            return numerator / denominator
    return None


# --------------------------------------------------------------------------- one channel


def _fold_channel(
    intervals: list[_Interval], slots: list[_Slot], zone: ZoneInfo, max_gap_slots: int
) -> _ChannelFold:
    latest_end = max(interval.end for interval in intervals)
    values: dict[str, float] = {}
    gaps: set[str] = set()
    beyond: set[str] = set()
    with_data: set[str] = set()
    touched_by_spike: set[str] = set()

    # Rule 5: overlap-weighted mean; rule 6: classify empty slots.
    for slot in slots:
        numerator = 0.0
        denominator = 0.0
        for interval in intervals:
            seconds = _overlap_seconds(slot.effective_start, slot.end, interval.start, interval.end)
            if seconds > 0:
                numerator += interval.price * seconds
                denominator += seconds
        if denominator > 0:
            values[slot.label] = numerator / denominator
            with_data.add(slot.label)
            if any(
                interval.spike
                for interval in intervals
                if _overlap_seconds(slot.effective_start, slot.end, interval.start, interval.end)
                > 0
            ):
                touched_by_spike.add(slot.label)
        elif slot.effective_start >= latest_end:
            beyond.add(slot.label)
        else:
            gaps.add(slot.label)

    if len(gaps) > max_gap_slots:
        return _ChannelFold(values, gaps, beyond, set(), missing=set(gaps))

    # Gaps: from the previous slot in time order; leading gaps from the next slot with a value.
    missing: set[str] = set()
    previous: float | None = None
    leading: list[str] = []
    for slot in slots:
        if slot.label in values:
            previous = values[slot.label]
            for label in leading:
                values[label] = previous
            leading = []
        elif slot.label in gaps:
            if previous is None:
                leading.append(slot.label)
            else:
                values[slot.label] = previous
    missing.update(leading)  # gaps with no slot holding data anywhere after them

    # Beyond the horizon: persistence estimate, else carry a typical in-horizon value forward:
    # the median of the slots with data of their own and no (potential) spike among it.
    typical = sorted(
        values[slot.label]
        for slot in slots
        if slot.label in with_data and slot.label not in touched_by_spike
    )
    last_in_horizon = statistics.median(typical) if typical else None
    carried: set[str] = set()
    for slot in slots:
        if slot.label not in beyond:
            continue
        estimate = _persistence_estimate(intervals, slot, zone)
        if estimate is None:
            if last_in_horizon is None:
                missing.add(slot.label)
                continue
            estimate = last_in_horizon
            carried.add(slot.label)
        values[slot.label] = estimate

    return _ChannelFold(values, gaps, beyond, carried, missing)


# --------------------------------------------------------------------------- rules 3 and 8


def _clamp(
    buy_cents: float, feed_in_cents: float, allow_sell_above_buy: bool
) -> tuple[float, float]:
    buy = buy_cents / 100
    sell = -feed_in_cents / 100
    buy = buy if buy > 0 else 0.0
    sell = sell if sell > 0 else 0.0
    if not allow_sell_above_buy:
        sell = min(sell, buy)
    return round(buy, 4), round(sell, 4)


# --------------------------------------------------------------------------- entry point


def reference_fold(
    intervals: list[dict[str, Any]],
    tz: str,
    now: datetime,
    *,
    forecast_price: str = "predicted",
    allow_sell_above_buy: bool = False,
    max_gap_slots: int = 4,
) -> ReferenceResult | ReferenceRefusal:
    """Fold raw Amber intervals into 48 (buy, sell) rates, or refuse."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if forecast_price not in FORECAST_PRICE_OPTIONS:
        raise ValueError(f"forecast_price must be one of {FORECAST_PRICE_OPTIONS}")
    zone = ZoneInfo(tz)
    now = now.astimezone(UTC)
    slots = _build_slots(zone, now)
    by_channel = _channel_intervals(intervals, forecast_price)

    folds: dict[str, _ChannelFold] = {}
    missing: dict[str, list[str]] = {}
    if not by_channel["general"]:
        missing["general"] = sorted(LABELS)
    for channel in CHANNELS:
        if not by_channel[channel]:
            continue  # general: refused above; feedIn: import-only site, sell = 0 (rule 7)
        folded = _fold_channel(by_channel[channel], slots, zone, max_gap_slots)
        folds[channel] = folded
        if folded.missing:
            missing[channel] = sorted(folded.missing)
    if missing:
        return ReferenceRefusal(missing)

    general = folds["general"].values
    feed_in = folds["feedIn"].values if "feedIn" in folds else dict.fromkeys(LABELS, 0.0)
    rates = {
        label: _clamp(general[label], feed_in[label], allow_sell_above_buy) for label in LABELS
    }
    return ReferenceResult(
        rates=rates,
        estimated=set().union(*(fold.beyond for fold in folds.values())),
        gap_filled=set().union(*(fold.gaps for fold in folds.values())),
        estimated_by_channel={channel: set(fold.beyond) for channel, fold in folds.items()},
        carried_forward_by_channel={channel: set(fold.carried) for channel, fold in folds.items()},
        gap_filled_by_channel={channel: set(fold.gaps) for channel, fold in folds.items()},
        cents={channel: dict(fold.values) for channel, fold in folds.items()},
        spans={slot.label: (slot.start, slot.end) for slot in slots},
    )


def rates_close(
    left: dict[str, tuple[float, float]],
    right: dict[str, tuple[float, float]],
    tolerance: float = 1e-4 + 1e-9,
) -> bool:
    """Same labels and every buy/sell within `tolerance` (one unit in the 4th decimal)."""
    if set(left) != set(right):
        return False
    return all(
        abs(left[label][side] - right[label][side]) <= tolerance
        for label in left
        for side in (0, 1)
    )

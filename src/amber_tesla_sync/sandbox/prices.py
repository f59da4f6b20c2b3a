"""Wholesale (NEM spot) price model: true prices, forecasts and Amber's forecast band.

Pure functions of ``(seed, region, interval, publication time)``. Prices are in AEMO's unit,
$/MWh excluding GST (RRP); :func:`spot_c_per_kwh` converts to Amber's c/kWh including GST.

The daily shape was derived from real AEMO 5-minute dispatch prices (NSW1 and SA1, December
2024; SA1, January 2022; all regions, October 2021), summarised as medians per NEM hour: about
$100-140 overnight, a solar dip from 07:00 to 16:00 that goes negative on sunny days, and an
evening peak around 18:00-19:00 of about $200. Spikes to hundreds or thousands of $/MWh (cap
$17,500) happen on a minority of days, mostly in the evening; the floor is -$1,000.

Time is indexed by 5-minute interval: ``idx`` is the start of the interval in seconds since the
epoch divided by 300. NEM time is UTC+10 without daylight saving.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from amber_tesla_sync.sandbox.noise import drift, normal, smooth, uniform

MARKET_CAP = 17_500.0
MARKET_FLOOR = -1_000.0
SPIKE_RRP = 300.0
"""A 5-minute price at or above this ($/MWh) counts as a spike."""
NEM_OFFSET_MINUTES = 600
EPOCH = date(1970, 1, 1)

# Median-like daily shape by NEM hour ($/MWh), and the solar dip subtracted from it on a day of
# average sunshine (scaled by season, cloud and region).
BASELINE: tuple[float, ...] = (
    125, 115, 108, 105, 105, 100, 95, 95, 95, 95, 95, 95,
    95, 95, 100, 105, 115, 160, 205, 195, 170, 140, 140, 132,
)  # fmt: skip
SOLAR_DIP: tuple[float, ...] = (
    0, 0, 0, 0, 0, 0, 35, 75, 105, 115, 120, 120,
    118, 112, 100, 85, 60, 20, 0, 0, 0, 0, 0, 0,
)  # fmt: skip


@dataclass(frozen=True)
class RegionModel:
    """Parameters of one NEM region."""

    code: str
    level: float
    solar_depth: float
    spike_day_probability: float
    renewables_base: float
    renewables_solar: float
    renewables_wind: float
    renewables_max: float


REGIONS: dict[str, RegionModel] = {
    "NSW1": RegionModel("NSW1", 1.0, 0.6, 0.12, 12.0, 38.0, 14.0, 98.0),
    "VIC1": RegionModel("VIC1", 0.9, 1.05, 0.08, 18.0, 34.0, 30.0, 99.0),
    "SA1": RegionModel("SA1", 0.95, 1.35, 0.15, 30.0, 45.0, 40.0, 115.0),
    "QLD1": RegionModel("QLD1", 1.0, 1.1, 0.12, 10.0, 40.0, 8.0, 95.0),
}


@dataclass(frozen=True)
class SpikeEvent:
    """A run of spiking 5-minute intervals on one NEM day."""

    start_minute: int
    intervals: int
    peak: float


@dataclass(frozen=True)
class DayParams:
    """Day-level randomness: price level, sunshine, spike events."""

    level: float
    sunshine: float
    spikes: tuple[SpikeEvent, ...]


def spot_c_per_kwh(rrp: float) -> float:
    """$/MWh excluding GST → c/kWh including GST."""
    return rrp * 0.11


def nem_day(idx: int) -> int:
    """Days since 1970-01-01 of the NEM date of the interval's start."""
    return (idx * 5 + NEM_OFFSET_MINUTES) // 1440


def nem_minute(idx: int) -> int:
    """Minute of the NEM day at which the interval starts."""
    return (idx * 5 + NEM_OFFSET_MINUTES) % 1440


def _interp(table: tuple[float, ...], hour: float) -> float:
    lo = math.floor(hour) % 24
    hi = (lo + 1) % 24
    f = hour - math.floor(hour)
    return table[lo] * (1.0 - f) + table[hi] * f


def _season_solar(month: int) -> float:
    return 0.85 + 0.3 * math.cos(2.0 * math.pi * (month - 1) / 12.0)


def _season_evening(month: int) -> float:
    return 1.0 + 0.15 * math.cos(2.0 * math.pi * (month - 7) / 12.0)


@lru_cache(maxsize=4096)
def day_params(seed: int, region: str, day: int) -> DayParams:
    """Level, sunshine and spike events of one NEM day."""
    model = REGIONS[region]
    month = (EPOCH + timedelta(days=day)).month
    level = model.level * math.exp(0.22 * normal(seed, region, "level", day))
    sunshine = (
        model.solar_depth * _season_solar(month) * (0.45 + 0.75 * uniform(seed, region, "sun", day))
    )
    spikes: list[SpikeEvent] = []
    if uniform(seed, region, "spike-day", day) < model.spike_day_probability:
        start = 990 + 5 * int(36 * uniform(seed, region, "spike-start", day))  # 16:30-19:25
        spikes.append(_event(seed, region, day, "evening", start))
    if uniform(seed, region, "spike-morning", day) < model.spike_day_probability / 3.0:
        start = 390 + 5 * int(24 * uniform(seed, region, "spike-mstart", day))  # 06:30-08:25
        spikes.append(_event(seed, region, day, "morning", start))
    return DayParams(level, sunshine, tuple(spikes))


def _event(seed: int, region: str, day: int, name: str, start: int) -> SpikeEvent:
    u = uniform(seed, region, "spike-len", name, day)
    intervals = 2 + int(16 * u * u)
    tail = -math.log(1.0 - 0.999 * uniform(seed, region, "spike-peak", name, day))
    peak = min(MARKET_CAP, SPIKE_RRP * math.exp(1.6 * tail))
    return SpikeEvent(start, intervals, peak)


@lru_cache(maxsize=262_144)
def base_rrp(seed: int, region: str, idx: int) -> float:
    """The price without spikes and plunges: what a forecast aims at."""
    day = nem_day(idx)
    params = day_params(seed, region, day)
    month = (EPOCH + timedelta(days=day)).month
    hour = (nem_minute(idx) + 2.5) / 60.0
    base = _interp(BASELINE, hour) * params.level
    if 16.5 <= hour < 21.5:
        base *= _season_evening(month)
    base -= _interp(SOLAR_DIP, hour) * params.sunshine
    scale = abs(base)
    noise = (
        (0.10 * scale + 6.0) * smooth(seed, idx / 24.0, region, "slow")
        + (0.05 * scale + 3.0) * smooth(seed, idx / 6.0, region, "mid")
        + (0.03 * scale + 2.0) * normal(seed, region, "white", idx)
    )
    return _clamp(base + noise)


def spike_at(seed: int, region: str, idx: int) -> tuple[str, float] | None:
    """``(event key, price)`` if the interval belongs to a spike, else None."""
    day = nem_day(idx)
    minute = nem_minute(idx)
    for n, event in enumerate(day_params(seed, region, day).spikes):
        k = (minute - event.start_minute) // 5
        if 0 <= k < event.intervals:
            shape = 0.45 + 0.55 * math.sin(math.pi * (k + 0.5) / event.intervals)
            jitter = 0.8 + 0.4 * uniform(seed, region, "spike-j", idx)
            return f"{day}:{n}", min(MARKET_CAP, event.peak * shape * jitter)
    if uniform(seed, region, "isolated", idx) < 0.0015 and not 600 <= minute < 900:
        return f"i{idx}", SPIKE_RRP + 1500.0 * uniform(seed, region, "isolated-v", idx) ** 2
    return None


def _plunge_at(seed: int, region: str, idx: int) -> float | None:
    minute = nem_minute(idx)
    if not 540 <= minute < 930:
        return None
    params = day_params(seed, region, nem_day(idx))
    if params.sunshine < 0.9 or uniform(seed, region, "plunge", idx) >= 0.006:
        return None
    return -(60.0 + 940.0 * uniform(seed, region, "plunge-v", idx) ** 3)


@lru_cache(maxsize=262_144)
def true_rrp(seed: int, region: str, idx: int) -> float:
    """The price the interval settles at (what ActualIntervals report)."""
    base = base_rrp(seed, region, idx)
    spike = spike_at(seed, region, idx)
    if spike is not None:
        return _clamp(max(base, spike[1]))
    plunge = _plunge_at(seed, region, idx)
    if plunge is not None:
        return _clamp(min(base, plunge))
    return base


def _sigma(base: float, lead_hours: float) -> float:
    scale = abs(base)
    return (3.0 + 0.03 * scale) + (7.0 + 0.07 * scale) * math.sqrt(lead_hours)


def forecast_rrp(seed: int, region: str, idx: int, published: int) -> float:
    """AEMO's forecast for interval ``idx`` as published at interval ``published``.

    The error grows with the lead time, keeps a slowly changing part (re-drawn every 3 hours of
    publication time) and a part re-drawn at every publication, so forecasts move between runs.
    Known spikes show up with a probability that falls with the lead time; some evenings carry a
    "phantom" spike that never happens.
    """
    lead = max(0, idx - published) * 5.0 / 60.0
    base = base_rrp(seed, region, idx)
    sigma = _sigma(base, lead)
    # revised gradually between publications, like successive pre-dispatch runs: a slow part
    # (knots every 6 hours of publication time) and a faster one (knots every 2 hours)
    slow = drift(seed, idx / 24.0, published / 72.0, region, "f-slow")
    fast = drift(seed, idx / 6.0, published / 24.0, region, "f-fast")
    value = base + sigma * (0.8 * slow + 0.5 * fast)
    truth = true_rrp(seed, region, idx)
    spike = spike_at(seed, region, idx)
    if spike is not None:
        known = math.exp(-lead / 2.5) if not spike[0].startswith("i") else math.exp(-lead * 6.0)
        if uniform(seed, region, "spike-known", spike[0], published // 6) < known:
            value = truth * (0.55 + 0.7 * uniform(seed, region, "spike-fv", idx, published // 6))
    elif truth < base - 50.0 and lead < 1.0:
        value = truth + 0.3 * (value - base)
    phantom = _phantom(seed, region, idx, published, lead)
    if phantom is not None:
        value = max(value, phantom)
    return _clamp(value)


def _phantom(seed: int, region: str, idx: int, published: int, lead: float) -> float | None:
    if lead < 1.0:
        return None
    day = nem_day(idx)
    if day_params(seed, region, day).spikes:
        return None
    bucket = published // 36
    if uniform(seed, region, "phantom", day, bucket) >= 0.2:
        return None
    start = 1000 + 5 * int(30 * uniform(seed, region, "phantom-start", day, bucket))
    length = 3 + int(9 * uniform(seed, region, "phantom-len", day, bucket))
    minute = nem_minute(idx)
    if not start <= minute < start + 5 * length:
        return None
    return SPIKE_RRP + 2500.0 * uniform(seed, region, "phantom-v", day, bucket) ** 2


@dataclass(frozen=True)
class Band:
    """Amber's own forecast band (in $/MWh here; converted to retail by the caller)."""

    low: float
    predicted: float
    high: float


def advanced_band(seed: int, region: str, idx: int, published: int) -> Band:
    """Amber's ``advancedPrice`` band for interval ``idx`` at publication ``published``."""
    lead = max(0, idx - published) * 5.0 / 60.0
    base = base_rrp(seed, region, idx)
    noise = drift(seed, idx / 6.0, published / 24.0, region, "adv")
    predicted = base + 0.6 * _sigma(base, lead) * noise
    aemo = forecast_rrp(seed, region, idx, published)
    if aemo >= SPIKE_RRP:
        predicted += 0.35 * (aemo - predicted)
    width = (5.0 + 0.06 * abs(predicted)) * (0.4 + 0.6 * math.sqrt(lead))
    return Band(predicted - width, predicted, predicted + 1.5 * width)


def renewables(seed: int, region: str, idx: int, published: int | None = None) -> float:
    """Share of renewables (%) in the region; ``published`` adds forecast noise."""
    model = REGIONS[region]
    params = day_params(seed, region, nem_day(idx))
    hour = (nem_minute(idx) + 2.5) / 60.0
    sun = max(0.0, math.sin(math.pi * (hour - 6.0) / 13.0))
    wind = 0.5 + 0.5 * math.tanh(smooth(seed, idx / 72.0, region, "wind"))
    value = (
        model.renewables_base
        + model.renewables_solar * sun * min(1.4, params.sunshine / max(model.solar_depth, 0.1))
        + model.renewables_wind * wind
    )
    if published is not None:
        lead = max(0, idx - published) * 5.0 / 60.0
        value += (1.0 + 1.5 * math.sqrt(lead)) * smooth(seed, idx / 12.0, region, "rf", published)
    return min(model.renewables_max, max(0.5, value))


def _clamp(value: float) -> float:
    return min(MARKET_CAP, max(MARKET_FLOOR, value))

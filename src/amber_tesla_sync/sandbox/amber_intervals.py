"""Builds ``/sites/{id}/prices/current`` bodies the way Amber shapes them (pure, no I/O).

Timing rules (see the Amber API reference):

* ``startTime`` is the interval start + 1 s (UTC), ``endTime`` the end (UTC), ``nemTime`` the end
  at UTC+10, ``date`` the NEM date of the start.
* The current interval is the one whose ``[start, end)`` contains *now*.
* 30-minute series: 30-minute actuals, current and forecasts. 5-minute series: 5-minute actuals and
  current, 5-minute forecasts up to the first half-hour boundary at least 30 minutes after the
  current interval ends, then 30-minute forecasts.
* ``next`` and ``previous`` count intervals at the series' resolution; the forecast window is
  ``next`` × resolution after the current interval, and only whole intervals inside it are sent.
* Forecast horizon (AEMO pre-dispatch): a trading day runs 04:00-04:00 NEM time. Before 12:30 NEM
  time of the current trading day the forecasts reach its end (the next 04:00); from 12:30 on they
  reach the end of the following trading day.
* A 5-minute CurrentInterval is an estimate for its first 25 seconds; a 30-minute one until its
  last 5 minutes. ``advancedPrice`` is on forecasts and on CurrentIntervals that are estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from amber_tesla_sync.sandbox.amber_sites import (
    AmberSite,
    ChannelType,
    descriptor,
    retail_c,
    tariff_information,
)
from amber_tesla_sync.sandbox.prices import (
    SPIKE_RRP,
    Band,
    advanced_band,
    base_rrp,
    forecast_rrp,
    renewables,
    spot_c_per_kwh,
    true_rrp,
)

NEM = timezone(timedelta(hours=10))
FIVE = timedelta(minutes=5)
THIRTY = timedelta(minutes=30)
FINAL_AFTER = timedelta(seconds=25)
PREDISPATCH_EXTENDS_AT = (12, 30)
MAX_INTERVALS = 2048

IntervalType = Literal["ActualInterval", "CurrentInterval", "ForecastInterval"]


@dataclass(frozen=True)
class Slot:
    """One interval to report."""

    kind: IntervalType
    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        """End of the interval."""
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class SpotValue:
    """The wholesale side of an interval, shared by all channels."""

    rrp: float
    spike_status: str
    renewables: float
    estimate: bool | None = None
    band: Band | None = None
    range_rrp: tuple[float, float] | None = None


def idx_of(t: datetime) -> int:
    """Index of the 5-minute interval containing ``t``."""
    return int(t.timestamp()) // 300


def at_idx(idx: int) -> datetime:
    """Start of 5-minute interval ``idx``."""
    return datetime.fromtimestamp(idx * 300, UTC)


def floor_to(t: datetime, minutes: int) -> datetime:
    """``t`` floored to a multiple of ``minutes`` (UTC; NEM offsets are whole hours)."""
    seconds = minutes * 60
    return datetime.fromtimestamp(int(t.timestamp()) // seconds * seconds, UTC)


def horizon_end(now: datetime) -> datetime:
    """The end of the forecast horizon at ``now``."""
    nem = now.astimezone(NEM)
    start = nem.replace(hour=4, minute=0, second=0, microsecond=0)
    if nem < start:
        start -= timedelta(days=1)
    hour, minute = PREDISPATCH_EXTENDS_AT
    end = start + timedelta(days=1)
    if nem >= start.replace(hour=hour, minute=minute):
        end += timedelta(days=1)
    return end.astimezone(UTC)


def plan_slots(now: datetime, resolution: int, next_: int, previous: int) -> list[Slot]:
    """The intervals of one response, in time order."""
    step = timedelta(minutes=resolution)
    current = Slot("CurrentInterval", floor_to(now, resolution), resolution)
    slots = [
        Slot("ActualInterval", current.start - step * k, resolution) for k in range(previous, 0, -1)
    ]
    slots.append(current)
    limit = min(current.end + step * next_, horizon_end(now))
    t = current.end
    if resolution == 5:
        switch = current.end + THIRTY
        if floor_to(switch, 30) != switch:
            switch = floor_to(switch, 30) + THIRTY
        while t + FIVE <= min(limit, switch):
            slots.append(Slot("ForecastInterval", t, 5))
            t += FIVE
        t = max(t, switch)
    while t + THIRTY <= limit:
        slots.append(Slot("ForecastInterval", t, 30))
        t += THIRTY
    return slots


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _mean_band(bands: list[Band]) -> Band:
    return Band(
        _mean([b.low for b in bands]),
        _mean([b.predicted for b in bands]),
        _mean([b.high for b in bands]),
    )


def slot_renewables(seed: int, region: str, slot: Slot, now: datetime) -> float:
    """Share of renewables of a slot as seen at ``now`` (the same in prices and renewables)."""
    first = idx_of(slot.start)
    now_idx = idx_of(now)
    published = None if slot.kind == "ActualInterval" else now_idx
    return _mean(
        [
            renewables(seed, region, i, published if i > now_idx else None)
            for i in range(first, first + slot.minutes // 5)
        ]
    )


def spot_value(seed: int, region: str, slot: Slot, now: datetime) -> SpotValue:
    """Wholesale price, spike status and band of a slot as seen at ``now``."""
    first = idx_of(slot.start)
    subs = list(range(first, first + slot.minutes // 5))
    now_idx = idx_of(now)
    renew = slot_renewables(seed, region, slot, now)
    if slot.kind == "ActualInterval":
        truth = [true_rrp(seed, region, i) for i in subs]
        status = "spike" if max(truth) >= SPIKE_RRP else "none"
        return SpotValue(_mean(truth), status, round(renew, 3))
    if slot.kind == "CurrentInterval":
        return _current(seed, region, slot, subs, now, round(renew, 3))
    published = now_idx if slot.minutes == 5 else now_idx // 6 * 6
    values = [forecast_rrp(seed, region, i, published) for i in subs]
    band = _mean_band([advanced_band(seed, region, i, published) for i in subs])
    if max(values) >= SPIKE_RRP:
        low = min(base_rrp(seed, region, i) for i in subs)
        return SpotValue(_mean(values), "potential", renew, None, band, (low, max(values) * 1.25))
    return SpotValue(_mean(values), "none", renew, None, band)


def _current(
    seed: int, region: str, slot: Slot, subs: list[int], now: datetime, renew: float
) -> SpotValue:
    now_idx = idx_of(now)
    final_now = now - at_idx(now_idx) >= FINAL_AFTER
    estimate = now < slot.end - FIVE if slot.minutes == 30 else not final_now
    if not estimate:
        truth = [true_rrp(seed, region, i) for i in subs]
        status = "spike" if max(truth) >= SPIKE_RRP else "none"
        return SpotValue(_mean(truth), status, renew, estimate=False)
    known: list[float] = []
    guessed: list[float] = []
    bands: list[Band] = []
    for i in subs:
        if i < now_idx or (i == now_idx and final_now):
            value = true_rrp(seed, region, i)
            known.append(value)
            bands.append(Band(value, value, value))
        else:
            guessed.append(forecast_rrp(seed, region, i, now_idx))
            bands.append(advanced_band(seed, region, i, now_idx))
    values = known + guessed
    if (known and max(known) >= SPIKE_RRP) or _mean(values) >= SPIKE_RRP:
        status = "spike"
    elif guessed and max(guessed) >= SPIKE_RRP:
        status = "potential"
    else:
        status = "none"
    return SpotValue(_mean(values), status, renew, True, _mean_band(bands))


def _iso_z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def interval_json(
    site: AmberSite, channel: ChannelType, slot: Slot, value: SpotValue
) -> dict[str, Any]:
    """One interval object, with keys in the order Amber sends them."""
    spot_c = spot_c_per_kwh(value.rrp)
    per_kwh = retail_c(site, channel, spot_c, slot.start)
    body: dict[str, Any] = {
        "type": slot.kind,
        "date": slot.start.astimezone(NEM).date().isoformat(),
        "duration": slot.minutes,
        "startTime": _iso_z(slot.start + timedelta(seconds=1)),
        "endTime": _iso_z(slot.end),
        "nemTime": slot.end.astimezone(NEM).strftime("%Y-%m-%dT%H:%M:%S+10:00"),
        "perKwh": round(per_kwh, 5),
        "renewables": value.renewables,
        "spotPerKwh": round(spot_c, 5),
        "channelType": channel,
        "spikeStatus": value.spike_status,
    }
    info = tariff_information(site, channel, slot.start)
    if info:
        body["tariffInformation"] = info
    body["descriptor"] = descriptor(channel, per_kwh, value.spike_status == "spike")
    if slot.kind == "CurrentInterval":
        body["estimate"] = bool(value.estimate)
    if value.range_rrp is not None:
        body["range"] = {
            "min": round(spot_c_per_kwh(value.range_rrp[0]), 5),
            "max": round(spot_c_per_kwh(value.range_rrp[1]), 5),
        }
    if value.band is not None and (slot.kind == "ForecastInterval" or value.estimate):
        body["advancedPrice"] = {
            name: round(retail_c(site, channel, spot_c_per_kwh(rrp), slot.start), 5)
            for name, rrp in (
                ("low", value.band.low),
                ("predicted", value.band.predicted),
                ("high", value.band.high),
            )
        }
    return body


def current_prices(
    seed: int,
    site: AmberSite,
    now: datetime,
    next_: int = 0,
    previous: int = 0,
    resolution: int | None = None,
) -> list[dict[str, Any]]:
    """The body of ``GET /sites/{site}/prices/current`` at ``now``."""
    slots = plan_slots(now, resolution or site.interval_length, next_, previous)
    values = [spot_value(seed, site.region, slot, now) for slot in slots]
    return [
        interval_json(site, channel, slot, value)
        for channel in site.channel_types()
        for slot, value in zip(slots, values, strict=True)
    ]

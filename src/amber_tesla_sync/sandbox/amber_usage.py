"""``GET /sites/{id}/usage``: metered energy per billing interval, priced (pure, no I/O).

As captured from the live API: whole NEM days matched on ``date``, at the site's billing
interval, one object per channel and interval with ``kwh`` ≥ 0 on every channel (the channel
gives the direction) and ``cost`` = ``kwh`` × ``perKwh`` in cents. Usage is next-day data: a
day appears once it is over and 06:00 NEM time of the next day has passed, ``estimated`` at first
and ``billable`` from 06:00 the day after; only the last 90 days are served.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from amber_tesla_sync.sandbox.amber_intervals import NEM, Slot, interval_json, spot_value
from amber_tesla_sync.sandbox.amber_ranges import DateRange, nem_today
from amber_tesla_sync.sandbox.amber_sites import AmberSite, ChannelType
from amber_tesla_sync.sandbox.meters import Reading
from amber_tesla_sync.sandbox.site_history import step_index

PUBLISHED_AT_HOUR = 6
KEPT_DAYS = 90

ReadingsFn = Callable[[AmberSite, datetime, datetime], dict[int, Reading]]


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=NEM)


def published_days(site: AmberSite, span: DateRange, now: datetime) -> list[date]:
    """The days of ``span`` whose usage the API serves at ``now``."""
    oldest = nem_today(now) - timedelta(days=KEPT_DAYS)
    active_from = date.fromisoformat(site.active_from)
    closed_on = date.fromisoformat(site.closed_on) if site.closed_on else None
    return [
        day
        for day in span.days()
        if now >= _at(day + timedelta(days=1), PUBLISHED_AT_HOUR)
        and day >= max(oldest, active_from)
        and (closed_on is None or day <= closed_on)
    ]


def _kwh(readings: list[Reading], channel: ChannelType) -> float:
    if channel == "general":
        wh = sum(r.imported for r in readings)
    elif channel == "feedIn":
        wh = sum(r.exported for r in readings)
    else:
        wh = sum(r.controlled for r in readings)
    return wh / 1000.0


def usage_row(
    channel: ChannelType, identifier: str, priced: dict[str, Any], **values: Any
) -> dict[str, Any]:
    """One usage object, keys in the order the API sends them."""
    row: dict[str, Any] = {
        "type": "Usage",
        "duration": priced["duration"],
        "date": priced["date"],
        "endTime": priced["endTime"],
        "quality": values["quality"],
        "kwh": values["kwh"],
        "nemTime": priced["nemTime"],
        "perKwh": priced["perKwh"],
        "channelType": channel,
        "channelIdentifier": identifier,
        "cost": round(values["kwh"] * priced["perKwh"], 4),
        "renewables": priced["renewables"],
        "spotPerKwh": priced["spotPerKwh"],
        "startTime": priced["startTime"],
        "spikeStatus": priced["spikeStatus"],
    }
    if "tariffInformation" in priced:
        row["tariffInformation"] = priced["tariffInformation"]
    row["descriptor"] = priced["descriptor"]
    return row


def usage_body(
    seed: int, site: AmberSite, now: datetime, span: DateRange, readings: ReadingsFn
) -> list[dict[str, Any]]:
    """The body of ``GET /sites/{site}/usage`` at ``now``."""
    step = timedelta(minutes=site.interval_length)
    rows: dict[ChannelType, list[dict[str, Any]]] = {t: [] for t in site.channel_types()}
    for day in published_days(site, span, now):
        start = _at(day, 0)
        metered = readings(site, start, start + timedelta(days=1))
        quality = (
            "billable" if now >= _at(day + timedelta(days=2), PUBLISHED_AT_HOUR) else "estimated"
        )
        for k in range(int(timedelta(days=1) / step)):
            slot = Slot("ActualInterval", start + step * k, site.interval_length)
            first = step_index(slot.start)
            steps = [metered.get(first + j) for j in range(site.interval_length // 5)]
            if any(s is None for s in steps):
                continue
            value = spot_value(seed, site.region, slot, now)
            for channel_ in site.channels:
                priced = interval_json(site, channel_.type, slot, value)
                kwh = _kwh([s for s in steps if s is not None], channel_.type)
                rows[channel_.type].append(
                    usage_row(channel_.type, channel_.identifier, priced, quality=quality, kwh=kwh)
                )
    return [row for channel in site.channel_types() for row in rows[channel]]

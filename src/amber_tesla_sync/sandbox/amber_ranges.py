"""``GET /sites/{id}/prices?startDate&endDate``: whole NEM days of intervals (pure, no I/O).

A date ``D`` covers the intervals whose ``date`` is ``D``: starts from ``D`` 00:00 to ``D+1``
00:00 NEM time. Past intervals are ActualIntervals, the one holding *now* the CurrentInterval,
later ones ForecastIntervals up to the forecast horizon, exactly as ``/prices/current`` plans
them, so both endpoints give the same prices for the same intervals. ``next`` is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from amber_tesla_sync.sandbox.amber_intervals import (
    NEM,
    Slot,
    floor_to,
    interval_json,
    plan_slots,
    spot_value,
)
from amber_tesla_sync.sandbox.amber_sites import AmberSite

MAX_RANGE_DAYS = 7


class RangeError(ValueError):
    """A bad date range: ``status`` is 400 or 422."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class DateRange:
    """Inclusive NEM dates."""

    start: date
    end: date

    @property
    def start_time(self) -> datetime:
        """``start`` 00:00 NEM time."""
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=NEM)

    @property
    def end_time(self) -> datetime:
        """The day after ``end``, 00:00 NEM time."""
        after = self.end + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=NEM)

    def days(self) -> list[date]:
        """Every date of the range."""
        return [self.start + timedelta(days=k) for k in range((self.end - self.start).days + 1)]


def nem_today(now: datetime) -> date:
    """Today's date in NEM time."""
    return now.astimezone(NEM).date()


def parse_range(
    start_text: str | None, end_text: str | None, now: datetime, *, required: bool
) -> DateRange:
    """``startDate``/``endDate`` (``YYYY-MM-DD``; each defaults to today unless ``required``)."""
    values: list[date] = []
    for name, text in (("startDate", start_text), ("endDate", end_text)):
        if not text:
            if required:
                raise RangeError(400, f"{name} is required")
            values.append(nem_today(now))
            continue
        try:
            values.append(date.fromisoformat(text))
        except ValueError as exc:
            raise RangeError(400, f"{name} must be a date (YYYY-MM-DD)") from exc
        if len(text) != 10:
            raise RangeError(400, f"{name} must be a date (YYYY-MM-DD)")
    start, end = values
    if end < start:
        raise RangeError(400, "endDate must not be before startDate")
    if (end - start).days > MAX_RANGE_DAYS:
        raise RangeError(
            422,
            f"The difference between startDate and endDate must not exceed {MAX_RANGE_DAYS} days",
        )
    return DateRange(start, end)


def range_slots(now: datetime, resolution: int, span: DateRange) -> list[Slot]:
    """The intervals of the range at ``resolution`` as seen at ``now``, in time order."""
    first, stop = span.start_time, span.end_time
    step = timedelta(minutes=resolution)
    if stop <= floor_to(now, resolution):
        count = int((stop - first) / step)
        return [Slot("ActualInterval", first + step * k, resolution) for k in range(count)]
    current = floor_to(now, resolution)
    previous = max(0, int((current - first) / step))
    next_ = int((stop - current) / step) + 1
    return [s for s in plan_slots(now, resolution, next_, previous) if first <= s.start < stop]


def prices_by_date(
    seed: int, site: AmberSite, now: datetime, span: DateRange, resolution: int | None
) -> list[dict[str, Any]]:
    """The body of ``GET /sites/{site}/prices``."""
    slots = range_slots(now, resolution or site.interval_length, span)
    values = [spot_value(seed, site.region, slot, now) for slot in slots]
    return [
        interval_json(site, channel, slot, value)
        for channel in site.channel_types()
        for slot, value in zip(slots, values, strict=True)
    ]

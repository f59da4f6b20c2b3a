"""Rule 4: the 48 local half-hours of the coming day, as UTC instants, daylight saving included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from amber_tesla_sync.tariff.model import SlotSpan

UTC = dt.UTC
HALF_HOUR = dt.timedelta(minutes=30)
SLOT_COUNT = 48


class UnalignedZoneError(ValueError):
    """The zone's UTC offset is not a whole number of half-hours (not a NEM zone)."""


def floor_to(moment: dt.datetime, minutes: int) -> dt.datetime:
    """``moment`` in UTC, floored to a multiple of ``minutes`` since midnight UTC."""
    moment = moment.astimezone(UTC)
    floored = (moment.hour * 60 + moment.minute) // minutes * minutes
    return moment.replace(hour=floored // 60, minute=floored % 60, second=0, microsecond=0)


def check_half_hour_offsets(zone: ZoneInfo, around: dt.datetime) -> None:
    """Refuse zones whose offset is not whole half-hours near ``around`` (all NEM zones are)."""
    for days in range(-2, 4):
        offset = (around + dt.timedelta(days=days)).astimezone(zone).utcoffset()
        if offset is None or offset % HALF_HOUR:
            raise UnalignedZoneError(
                f"the time zone {zone.key} has a UTC offset that is not a whole number of "
                "half-hours; Powerwall half-hour slots cannot follow it"
            )


def wall_instants(zone: ZoneInfo, local: dt.datetime) -> list[dt.datetime]:
    """The UTC instants at which the naive local wall time ``local`` occurs (0, 1 or 2)."""
    found = []
    for fold in (0, 1):
        instant = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == local and instant not in found:
            found.append(instant)
    return sorted(found)


def label_instants(zone: ZoneInfo, day: dt.date, minute_of_day: int) -> list[dt.datetime]:
    """Start instants for the slot starting at ``minute_of_day`` on local ``day``.

    A wall time that occurs twice (daylight saving ends) gives both instants. One that does not
    exist (daylight saving starts) takes a neighbouring half-hour: the one before it if that
    exists, else the one after (so of a skipped hour 02:00 → 01:30 and 02:30 → 03:00).
    """
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute_of_day)
    found = wall_instants(zone, local)
    if found:
        return found
    for neighbour in (local - HALF_HOUR, local + HALF_HOUR):
        found = wall_instants(zone, neighbour)
        if found:
            return found
    return []


def label_of(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def slot_spans(zone: ZoneInfo, now: dt.datetime) -> list[SlotSpan]:
    """The 48 slots, in time order, starting with the current slot (the half-hour of ``now``).

    Each label takes the earliest occurrence of its local start time at or after the current
    slot's start, so the slots cover the coming 24 hours (25 on the day daylight saving ends).
    """
    check_half_hour_offsets(zone, now)
    current = floor_to(now, 30)
    first_day = current.astimezone(zone).date()
    spans = []
    for minute_of_day in range(0, 24 * 60, 30):
        start = None
        for days in range(3):
            candidates = label_instants(zone, first_day + dt.timedelta(days=days), minute_of_day)
            later = [instant for instant in candidates if instant >= current]
            if later:
                start = later[0]
                break
        if start is None:  # pragma: no cover - every label occurs within two days
            raise AssertionError(f"no occurrence of {label_of(minute_of_day)} found")
        spans.append(SlotSpan(label=label_of(minute_of_day), start=start, end=start + HALF_HOUR))
    spans.sort(key=lambda span: (span.start, span.label))
    return spans

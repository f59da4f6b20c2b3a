"""Parsing times and zones given on the command line: pure functions, no file or clock.

A date-time without an offset is read in the zone the caller passes: the site's zone by the rule
of ``sync/zones.py``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amber_tesla_sync.errors import UsageError

MIN_YEAR, MAX_YEAR = 2000, 2999  # the arithmetic of a day or two either side stays in range


def check_timezone(name: str) -> ZoneInfo:
    """Return the zone called ``name`` or raise ``ValueError`` saying what is expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not a known IANA time zone (expected e.g. 'Australia/Sydney')"
        ) from exc


def parse_zone(name: str) -> ZoneInfo:
    try:
        return check_timezone(name)
    except ValueError as exc:
        raise UsageError(str(exc), "pass an IANA zone name such as Australia/Sydney") from exc


def parse_instant(text: str, zone: dt.tzinfo, refused: str, hint: str) -> dt.datetime:
    """An ISO 8601 date-time as a local time of its own offset, or without one of ``zone``
    (aware, not converted); not one is a usage error ``refused``, with ``hint``."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(refused, hint) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def parse_now(text: str, zone: dt.tzinfo) -> dt.datetime:
    """An ISO 8601 instant; one without an offset is taken as local time in ``zone``."""
    moment = parse_instant(
        text,
        zone,
        f"--now {text!r} is not an ISO 8601 date-time",
        "use e.g. 2025-10-05T09:41:00+11:00 or 2025-10-04T22:41:00Z",
    )
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise UsageError(
            f"--now {text!r} is out of range",
            f"use a time between the years {MIN_YEAR} and {MAX_YEAR}",
        )
    return moment.astimezone(dt.UTC)


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: dt.datetime, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """``24h`` / ``7d`` / ``90m`` before ``now``, or an ISO 8601 time (in ``zone`` if it has no
    offset)."""
    value = text.strip().lower()
    if value[:-1].isdigit() and value[-1:] in _UNITS:
        try:
            return now - dt.timedelta(seconds=int(value[:-1]) * _UNITS[value[-1]])
        except OverflowError:
            raise UsageError(
                f"--since {text!r} is too long ago", "use e.g. 24h, 7d or 60d"
            ) from None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"--since {text!r} is neither a duration nor an ISO 8601 time",
            "use e.g. 24h, 7d, 90m or 2025-10-05T00:00+11:00",
        ) from exc
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment

"""Parsing times and zones given on the command line.

One rule for every option: a date-time without an offset is local time of the site — the zone
given with ``--timezone``, else the configured one (``site.timezone`` or the ``[[sites]]``
zone), else the Powerwall's zone recorded at login, else this computer's local time zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.settings.config import Config, check_timezone

MIN_YEAR, MAX_YEAR = 2000, 2999  # the arithmetic of a day or two either side stays in range


def parse_zone(name: str) -> ZoneInfo:
    try:
        return check_timezone(name)
    except ValueError as exc:
        raise UsageError(str(exc), "pass an IANA zone name such as Australia/Sydney") from exc


def parse_now(text: str, zone: dt.tzinfo) -> dt.datetime:
    """An ISO 8601 instant; one without an offset is taken as local time in ``zone``."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"--now {text!r} is not an ISO 8601 date-time",
            "use e.g. 2025-10-05T09:41:00+11:00 or 2025-10-04T22:41:00Z",
        ) from exc
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise UsageError(
            f"--now {text!r} is out of range",
            f"use a time between the years {MIN_YEAR} and {MAX_YEAR}",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def naive_zone(config: Config) -> dt.tzinfo:
    """The zone a date-time without an offset is read in (see the module's rule)."""
    for name in [config.site.timezone, *(site.timezone for site in config.sites)]:
        if name:
            return ZoneInfo(name)
    from amber_tesla_sync.store.state import load_state

    energy_sites = [config.tesla.energy_site_id, *(site.energy_site_id for site in config.sites)]
    known = load_state().energy_sites
    for site_id in energy_sites:
        cached = known.get(str(site_id)) if site_id is not None else None
        if cached is not None and cached.time_zone:
            return ZoneInfo(cached.time_zone)
    local = dt.datetime.now().astimezone().tzinfo
    return local if local is not None else dt.UTC


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

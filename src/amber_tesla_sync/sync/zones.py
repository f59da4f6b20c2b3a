"""The site's time zone: one rule for every command.

In this order:

1. the zone configured for the site: ``--timezone`` where a command has it, else the site's
   ``[[sites]]`` ``timezone``, else ``site.timezone``;
2. the Powerwall's installation zone, remembered in the state since login or an earlier run;
3. where a command talks to Tesla anyway (``sync``, ``tariff``, ``report``): the zone the
   Powerwall reports in ``site_info``, which is then remembered;
4. otherwise a command that builds a tariff stops with an error that says how to set it, and a
   command that only shows or reads times (``status``, ``history``, ``--now``, ``--since``) uses
   this computer's zone.

``site_zone`` is steps 1–4 for building a tariff; ``shown_zone`` is steps 1, 2 and 4 for showing
and reading times. Both take the state as an argument: they read no file themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from amber_tesla_sync.errors import ConfigError, ServiceError, TimeZoneError
from amber_tesla_sync.store.state import EnergySiteState, State
from amber_tesla_sync.support.times import check_timezone

ZONE_HINT = "set it with `amber-tesla-sync config set site.timezone Australia/Sydney`"


def remembered_zone(state: State, energy_site_id: int | None) -> str | None:
    """The Powerwall's zone as remembered in the state (step 2), if any."""
    if energy_site_id is None:
        return None
    cached = state.energy_sites.get(str(energy_site_id))
    return cached.time_zone if cached is not None and cached.time_zone else None


def known_zone(
    configured: str | None, remembered: str | None, reported: str | None = None
) -> str | None:
    """Steps 1–3 on what is already at hand (no request): the first zone known."""
    return configured or remembered or reported


def shown_zone(
    sites: Iterable[tuple[str | None, int | None]], state: Callable[[], State]
) -> dt.tzinfo:
    """The zone times are shown and read in for ``sites`` (each its configured zone and its
    Powerwall): the first configured zone, else the first remembered one, else this computer's
    (steps 1, 2 and 4). A zone that is not usable here is passed over; ``state`` is called only
    when no zone is configured."""
    chosen = list(sites)
    for configured, _ in chosen:
        if configured and (zone := _usable(configured)) is not None:
            return zone
    if any(energy_site_id is not None for _, energy_site_id in chosen):
        known = state()
        for _, energy_site_id in chosen:
            name = remembered_zone(known, energy_site_id)
            if name and (zone := _usable(name)) is not None:
                return zone
    return local_zone()


def _usable(name: str) -> ZoneInfo | None:
    try:
        return check_timezone(name)
    except ValueError:
        return None


def local_zone() -> dt.tzinfo:
    """This computer's time zone (UTC where it has none)."""
    local = dt.datetime.now().astimezone().tzinfo
    return local if local is not None else dt.UTC


def site_zone(
    state: State,
    override: str | None,
    energy_site_id: int | None,
    powerwall_zone: Callable[[], str | None],
) -> ZoneInfo:
    """The zone a tariff is built in (steps 1–4): the configured zone, else the Powerwall's
    (remembered; ``powerwall_zone`` reads it from site_info the first time), else an error."""
    if override:
        return _zone(override, "the configured time zone")
    if energy_site_id is None:
        raise ConfigError(
            "the site's time zone is unknown",
            "set it (`amber-tesla-sync config set site.timezone Australia/Sydney`) or log in to "
            "Tesla so it can be read from the Powerwall",
        )
    cached = state.energy_sites.setdefault(str(energy_site_id), EnergySiteState())
    if not cached.time_zone:
        zone = powerwall_zone()
        if zone is None:
            raise ServiceError("the Powerwall did not report its time zone", ZONE_HINT)
        found = _zone(zone, "the Powerwall's time zone")  # only a usable zone is remembered
        cached.time_zone = zone
        return found
    return _zone(cached.time_zone, "the Powerwall's time zone (remembered)")


def _zone(name: str, what: str) -> ZoneInfo:
    try:
        return check_timezone(name)
    except ValueError as exc:
        shown = "".join(c if c.isprintable() else "?" for c in name)[:60]
        raise TimeZoneError(
            f"{what} {shown!r} is not a time zone known here",
            "nothing was pushed; " + ZONE_HINT + " (the site's IANA zone), or update the tzdata "
            "package if the zone is new",
        ) from exc

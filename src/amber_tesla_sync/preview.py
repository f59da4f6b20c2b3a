"""``tariff``: fold a price response into the tariff that would be pushed (no writes)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.client import intervals_to_request
from amber_tesla_sync.amber.models import Interval, unknown_values
from amber_tesla_sync.context import AppContext
from amber_tesla_sync.errors import ConfigError, ServiceError, UsageError
from amber_tesla_sync.state import AmberSiteState, EnergySiteState, load_state, save_state
from amber_tesla_sync.tariff import FoldOptions, Refusal, TariffPlan, fold
from amber_tesla_sync.tariff.slots import UnalignedZoneError

log = logging.getLogger(__name__)


def plan_tariff(
    intervals: Sequence[Interval], zone: ZoneInfo, now: dt.datetime, options: FoldOptions
) -> TariffPlan | Refusal:
    """Fold, logging what a user may want to know about the data."""
    unknown = unknown_values(intervals)
    if unknown:
        log.warning(
            "Amber data has values this version does not know: %s", ", ".join(sorted(unknown))
        )
    try:
        result = fold(intervals, zone, now, options)
    except UnalignedZoneError as exc:
        raise UsageError(str(exc), "use the site's IANA zone, e.g. Australia/Adelaide") from exc
    if isinstance(result, TariffPlan):
        fallback = sum(
            slot.general.per_kwh_fallback or bool(slot.feed_in and slot.feed_in.per_kwh_fallback)
            for slot in result.slots
        )
        log.info(
            "folded %d intervals: forecast price %s%s",
            len(intervals),
            options.forecast_price,
            f", perKwh used in {fallback} slots without advancedPrice" if fallback else "",
        )
    return result


def site_zone(ctx: AppContext) -> ZoneInfo:
    """The site's time zone: the config's override, the cached Powerwall zone, or site_info."""
    if ctx.config.site.timezone:
        return ZoneInfo(ctx.config.site.timezone)
    state = load_state()
    energy_site = ctx.config.tesla.energy_site_id
    cached = state.energy_sites.get(str(energy_site)) if energy_site is not None else None
    if cached is not None and cached.time_zone:
        return ZoneInfo(cached.time_zone)
    if energy_site is None:
        raise ConfigError(
            "the site's time zone is unknown",
            "set it (`amber-tesla-sync config set site.timezone Australia/Sydney`) or log in to "
            "Tesla so it can be read from the Powerwall",
        )
    zone = ctx.tesla().site_info(energy_site).get("installation_time_zone")
    if not isinstance(zone, str):
        raise ServiceError(
            "the Powerwall did not report its time zone",
            "set it with `amber-tesla-sync config set site.timezone Australia/Sydney`",
        )
    state.energy_sites.setdefault(str(energy_site), EnergySiteState()).time_zone = zone
    save_state(state)
    return ZoneInfo(zone)


def fetch_prices(ctx: AppContext) -> list[Interval]:
    """One ``/prices/current`` request covering ≥ 25 h ahead and 24 h back."""
    site_id = ctx.amber_site_id()
    state = load_state()
    cached = state.amber_sites.get(site_id)
    with ctx.amber() as client:
        if cached is None or cached.interval_length is None:
            site = next((s for s in client.sites() if s.id == site_id), None)
            if site is None:
                raise ConfigError(
                    f"the Amber account has no site {site_id}",
                    "run `amber-tesla-sync login amber` to pick a site",
                )
            cached = AmberSiteState(interval_length=site.interval_length)
            state.amber_sites[site_id] = cached
            save_state(state)
        next_, previous = intervals_to_request(cached.interval_length or 30)
        return client.current_prices(site_id, next_, previous)

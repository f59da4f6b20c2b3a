"""``tariff``: fold a price response into the tariff that would be pushed (no writes)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import Interval, unknown_values
from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.tariff import FoldOptions, Refusal, TariffPlan, fold
from amber_tesla_sync.tariff.slots import UnalignedZoneError

if TYPE_CHECKING:  # the live preview's clients are imported only for it (offline stays light)
    from amber_tesla_sync.sync.context import AppContext

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


def live_prices(
    ctx: AppContext, zone_override: str | None, site: str | None = None
) -> tuple[list[Interval], ZoneInfo, frozenset[str]]:
    """Amber's prices now for the site ``sync`` would run first (or ``site``), the site's time
    zone and the channels it is known to have."""
    from amber_tesla_sync.store.state import load_state, save_state
    from amber_tesla_sync.sync.fold_settings import known_channels
    from amber_tesla_sync.sync.sources import fetch_prices
    from amber_tesla_sync.sync.targets import targets
    from amber_tesla_sync.sync.zones import site_zone

    config = ctx.config
    energy_site: int | None
    if config.sites or config.tesla.energy_site_id is not None:
        target = targets(config, site)[0]  # chosen as `sync` chooses
        site_id, energy_site, configured = (
            target.amber_site_id,
            target.energy_site_id,
            target.timezone,
        )
    else:  # Amber only, no Powerwall yet: the preview still works
        if site is not None and site != config.amber.site_id:
            raise UsageError(f"no configured site {site!r}", f"configured: {config.amber.site_id}")
        site_id, energy_site, configured = ctx.amber_site_id(), None, config.site.timezone
    state = load_state()
    with ctx.amber() as client:
        intervals = fetch_prices(client, state, site_id)
    zone = site_zone(
        state,
        zone_override or configured,
        energy_site,
        lambda: ctx.tesla().site(energy_site or 0).time_zone,
    )
    save_state(state)
    return intervals, zone, known_channels(state, site_id)

"""What a run needs to know about a site, cached in the state: Amber's prices (at the site's
billing interval) and the Powerwall's time zone."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Interval
from amber_tesla_sync.config import Config
from amber_tesla_sync.errors import ConfigError, ServiceError
from amber_tesla_sync.state import AmberSiteState, EnergySiteState, State
from amber_tesla_sync.tariff.model import FoldOptions

if TYPE_CHECKING:  # the offline preview uses fold_options without the HTTP client
    from amber_tesla_sync.amber.client import AmberClient

ZONE_HINT = "set it with `amber-tesla-sync config set site.timezone Australia/Sydney`"


def fold_options(
    config: Config,
    expected_channels: frozenset[str] = frozenset(),
    **overrides: Any,
) -> FoldOptions:
    """The fold's options from the settings (``overrides``: command-line values, None = unset)."""
    tariff = config.tariff
    values: dict[str, Any] = {
        "forecast_price": config.amber.forecast_price,
        "allow_sell_above_buy": tariff.allow_sell_above_buy,
        "max_gap_slots": tariff.max_gap_slots,
        "min_horizon_hours": tariff.min_horizon_hours,
        "clock_slack_minutes": config.sync.max_clock_skew_minutes,
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    expected = set(expected_channels)
    if tariff.expect_feed_in is not None:
        expected.discard(FEED_IN)
        expected |= {FEED_IN} if tariff.expect_feed_in else set()
    return FoldOptions(**values, expected_channels=frozenset(expected))


def known_channels(state: State, site_id: str) -> frozenset[str]:
    """The channels the site is known to have (from Amber's site list and earlier answers)."""
    cached = state.amber_sites.get(site_id)
    return frozenset(cached.channels) if cached is not None else frozenset()


def fetch_prices(client: AmberClient, state: State, site_id: str) -> list[Interval]:
    """One ``/prices/current`` request covering ≥ 25 h ahead and 24 h back (plus one ``/sites``
    the first time, to learn the billing interval)."""
    from amber_tesla_sync.amber.client import intervals_to_request

    cached = state.amber_sites.get(site_id)
    if cached is None or cached.interval_length is None:
        site = next((s for s in client.sites() if s.id == site_id), None)
        if site is None:
            raise ConfigError(
                f"the Amber account has no site {site_id}",
                "run `amber-tesla-sync login amber` to pick a site",
            )
        cached = AmberSiteState(
            interval_length=site.interval_length,
            channels=sorted(site.channel_types & {GENERAL, FEED_IN}),
        )
        state.amber_sites[site_id] = cached
    next_, previous = intervals_to_request(cached.interval_length or 30)
    intervals = client.current_prices(site_id, next_, previous)
    seen = {item.channel_type for item in intervals} & {GENERAL, FEED_IN}
    cached.channels = sorted(set(cached.channels) | seen)
    return intervals


def site_zone(
    state: State,
    override: str | None,
    energy_site_id: int | None,
    site_info: Callable[[], Mapping[str, Any]],
) -> ZoneInfo:
    """The configured zone, else the Powerwall's (cached; read from site_info the first time)."""
    if override:
        return ZoneInfo(override)
    if energy_site_id is None:
        raise ConfigError(
            "the site's time zone is unknown",
            "set it (`amber-tesla-sync config set site.timezone Australia/Sydney`) or log in to "
            "Tesla so it can be read from the Powerwall",
        )
    cached = state.energy_sites.setdefault(str(energy_site_id), EnergySiteState())
    if not cached.time_zone:
        zone = site_info().get("installation_time_zone")
        if not isinstance(zone, str):
            raise ServiceError("the Powerwall did not report its time zone", ZONE_HINT)
        cached.time_zone = zone
    return ZoneInfo(cached.time_zone)

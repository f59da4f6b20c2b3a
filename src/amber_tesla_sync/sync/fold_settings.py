"""The fold's options from the settings, and the channels a site is known to have (no I/O: cheap
to import for an offline preview)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from amber_tesla_sync.amber.models import FEED_IN
from amber_tesla_sync.settings.config import Config
from amber_tesla_sync.tariff.model import FoldOptions, ForecastPrice

if TYPE_CHECKING:
    from amber_tesla_sync.store.state import State

T = TypeVar("T")


def fold_options(
    config: Config,
    expected_channels: frozenset[str] = frozenset(),
    *,
    forecast_price: ForecastPrice | None = None,
    allow_sell_above_buy: bool | None = None,
    max_gap_slots: int | None = None,
    min_horizon_hours: float | None = None,
) -> FoldOptions:
    """The fold's options from the settings; a command-line value given (not None) wins."""
    tariff = config.tariff
    expected = set(expected_channels)
    if tariff.expect_feed_in is not None:
        expected.discard(FEED_IN)
        expected |= {FEED_IN} if tariff.expect_feed_in else set()
    return FoldOptions(
        forecast_price=_given(forecast_price, config.amber.forecast_price),
        allow_sell_above_buy=_given(allow_sell_above_buy, tariff.allow_sell_above_buy),
        max_gap_slots=_given(max_gap_slots, tariff.max_gap_slots),
        min_horizon_hours=_given(min_horizon_hours, tariff.min_horizon_hours),
        clock_slack_minutes=config.sync.max_clock_skew_minutes,
        expected_channels=frozenset(expected),
        demand=config.demand.options(),
    )


def _given(value: T | None, configured: T) -> T:
    return configured if value is None else value


def known_channels(state: State, site_id: str) -> frozenset[str]:
    """The channels the site is known to have (from Amber's site list and earlier answers)."""
    cached = state.amber_sites.get(site_id)
    return frozenset(cached.channels) if cached is not None else frozenset()

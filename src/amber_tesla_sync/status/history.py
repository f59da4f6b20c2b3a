"""What ``history`` shows and exports: the recorded runs and both price channels of each site
since a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from amber_tesla_sync.status.model import PricePoint, SiteHistory
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.state import State
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.zones import shown_zone

SHOWN_RUNS = 500  # the table's runs at most (an export has every run since the time)


def site_histories(
    store: History,
    state: State,
    chosen: Sequence[Target],
    since: dt.datetime,
    limit: int | None = SHOWN_RUNS,
) -> list[SiteHistory]:
    """Each site's runs (the latest ``limit``; None: all) and prices since ``since``, with the
    zone they are shown in. Sell prices are as earned: Amber's feed-in price with its sign
    turned (positive when the site is paid)."""
    return [
        SiteHistory(
            target.key,
            shown_zone([(target.timezone, target.energy_site_id)], lambda: state),
            store.runs(since, target.key, limit=limit),
            store.prices(target.amber_site_id, since),
            _earned(store.prices(target.amber_site_id, since, "feedIn")),
        )
        for target in chosen
    ]


def _earned(feed_in: Sequence[PricePoint]) -> list[PricePoint]:
    return [(start, minutes, kind, 0.0 - price) for start, minutes, kind, price in feed_in]

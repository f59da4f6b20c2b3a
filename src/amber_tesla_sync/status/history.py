"""What ``history`` shows: the recorded runs and prices of each site since a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from amber_tesla_sync.status.model import SiteHistory
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.state import State
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.zones import shown_zone


def site_histories(
    store: History, state: State, chosen: Sequence[Target], since: dt.datetime
) -> list[SiteHistory]:
    """Each site's runs and prices since ``since``, with the zone they are shown in."""
    return [
        SiteHistory(
            target.key,
            shown_zone([(target.timezone, target.energy_site_id)], lambda: state),
            store.runs(since, target.key),
            store.prices(target.amber_site_id, since),
        )
        for target in chosen
    ]

"""What a run needs to know about a site, cached in the state: Amber's prices (at the site's
billing interval) and the Powerwall's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Interval
from amber_tesla_sync.errors import ConfigError
from amber_tesla_sync.store.state import AmberSiteState, State

if TYPE_CHECKING:  # the offline preview uses fold_options without the HTTP client
    from amber_tesla_sync.amber.client import AmberClient

Span = tuple[str, dt.datetime, dt.datetime]  # a recorded price's channel, start and end
PAST_HOURS = 24  # how far back a run's prices reach (the persistence estimate's day)


def fetch_prices(
    client: AmberClient,
    state: State,
    site_id: str,
    recorded: Iterable[Span] = (),
    now: dt.datetime | None = None,
) -> list[Interval]:
    """One ``/prices/current`` request covering ≥ 25 h ahead and the past 24 h (plus one
    ``/sites`` the first time, to learn the billing interval). Where the ``recorded`` actual
    prices (channel, start, end) already cover the past day without a gap up to some time, only
    the intervals since then (and an hour more) are asked for: every five minutes the same day
    would come again."""
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
    reach = None
    if now is not None:
        reach = covered_until(recorded, cached.channels, now - dt.timedelta(hours=PAST_HOURS))
    next_, previous = intervals_to_request(cached.interval_length or 30, now, reach)
    intervals = client.current_prices(site_id, next_, previous)
    seen = {item.channel_type for item in intervals} & {GENERAL, FEED_IN}
    cached.channels = sorted(set(cached.channels) | seen)
    return intervals


def covered_until(
    recorded: Iterable[Span], channels: Iterable[str], since: dt.datetime
) -> dt.datetime | None:
    """How far the ``recorded`` spans (channel, start, end) of every one of ``channels`` reach
    from ``since`` on without a gap; ``None`` when one of them does not cover ``since`` (or no
    channel is known)."""
    spans = list(recorded)
    reach: dt.datetime | None = None
    for channel in channels:
        cursor = since
        ordered = sorted((start, end) for kind, start, end in spans if kind == channel)
        for start, end in ordered:
            if end <= since:
                continue
            if start > cursor:
                break  # a gap: what follows it is not counted
            cursor = max(cursor, end)
        if cursor == since:
            return None
        reach = cursor if reach is None else min(reach, cursor)
    return reach

"""``status``: read what is known now — Amber's current prices, the Powerwall, the last sync, the
state — tolerating missing pieces (each part says why it is missing); ``status/summary.py`` then
works out what it means without reading anything."""

from __future__ import annotations

import datetime as dt

from amber_tesla_sync.errors import AppError
from amber_tesla_sync.status.model import SiteStatus
from amber_tesla_sync.status.summary import Readings, summarise
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.secrets import FLEET_TOKENS
from amber_tesla_sync.store.state import load_state
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.fold_settings import fold_options, known_channels
from amber_tesla_sync.sync.sources import fetch_prices
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.zones import remembered_zone

LOOK_BACK_DAYS, LOOK_BACK_RUNS = 30, 9000  # how far to look for the last successful sync
DRIFT_HISTORY_DAYS = 3  # the recorded actual prices the drift's fold may use


def gather(ctx: AppContext, target: Target, now: dt.datetime) -> SiteStatus:
    """What ``status`` shows for ``target``: read, then summarised."""
    return summarise(read(ctx, target, now), now)


def read(ctx: AppContext, target: Target, now: dt.datetime) -> Readings:
    state = load_state()
    readings = Readings(
        target,
        fold_options(ctx.config, known_channels(state, target.amber_site_id)),
        sync_state=state.sync.get(target.key),
        remembered_zone=remembered_zone(state, target.energy_site_id),
    )
    history = History()
    since = now - dt.timedelta(days=LOOK_BACK_DAYS)
    readings.runs = history.runs(since, target.key, limit=LOOK_BACK_RUNS)
    try:
        with ctx.amber() as client:
            readings.intervals = fetch_prices(client, state, target.amber_site_id)
    except AppError as error:
        readings.amber_error = _said(error)
    try:
        api = ctx.tesla()
        readings.info = api.site(target.energy_site_id)
        readings.live = api.live_status(target.energy_site_id)
    except AppError as error:
        readings.tesla_error = _said(error)
    else:
        readings.fleet_error = api.connection.fleet_error
        found = ctx.store.find(FLEET_TOKENS)
        readings.fleet_tokens = found.value if found is not None else None
    pushed = readings.sync_state is not None and readings.sync_state.last_push is not None
    if pushed and readings.intervals is not None:
        since = now - dt.timedelta(days=DRIFT_HISTORY_DAYS)
        readings.older = list(history.actual_intervals(target.amber_site_id, since))
    return readings


def _said(error: AppError) -> str:
    return f"{error.message} — {error.hint}" if error.hint else error.message

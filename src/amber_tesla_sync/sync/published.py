"""After a sync: what the run knew, as the figures :mod:`amber_tesla_sync.publish` sends to the
MQTT broker and the Prometheus textfile (see the README's "Home Assistant and Prometheus").

Everything comes from the run's outcomes and the state it leaves: no request is made for it.
Nothing here can fail the sync: a problem is one warning. The publishing modules are imported
only when something is configured to receive the figures.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from amber_tesla_sync.errors import AppError
from amber_tesla_sync.store.secret_names import MQTT_PASSWORD
from amber_tesla_sync.store.state import LastPush, State, SyncState
from amber_tesla_sync.support.times import check_timezone
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import Outcome, SiteOutcome, worst
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.zones import known_zone, remembered_zone

if TYPE_CHECKING:
    from amber_tesla_sync.publish.figures import SiteFigures, TeslaRequests
    from amber_tesla_sync.tesla.api import TeslaApi

log = logging.getLogger(__name__)
SUCCESS_LOOKBACK = dt.timedelta(days=30)  # how far back the history is searched for a success


def publish_run(
    ctx: AppContext,
    chosen: list[Target],
    state: State,
    outcomes: list[SiteOutcome],
    tesla: TeslaApi | None,
    now: dt.datetime,
    duration: float,
    names: Mapping[str, str],
) -> None:
    """The run's figures to wherever ``[mqtt]`` and ``[metrics]`` say (nothing when neither is
    configured); never raises."""
    config = ctx.config
    if not (config.mqtt.url or config.metrics.textfile):
        return
    try:
        from amber_tesla_sync.publish.figures import RunFigures
        from amber_tesla_sync.publish.outlets import publish_figures

        by_key = {target.key: target for target in chosen}
        sites = tuple(
            site_figures(by_key[o.site], o, state, now, names.get(o.site, o.site))
            for o in outcomes
            if o.site in by_key
        )
        run = RunFigures(now, duration, int(worst(outcomes)), sites, tesla_requests(tesla))
        publish_figures(config, lambda: ctx.store.get(MQTT_PASSWORD), run)
    except Exception as error:  # publishing must never fail the sync
        log.warning("publishing the figures failed: %s: %s", type(error).__name__, error)


def site_figures(
    target: Target, outcome: SiteOutcome, state: State, now: dt.datetime, name: str
) -> SiteFigures:
    from amber_tesla_sync.publish.figures import (
        Override,
        PowerwallSeen,
        SiteFigures,
        amber_now,
        tariff_slots,
    )

    site_state = state.sync.get(target.key) or SyncState()
    last_push = site_state.last_push
    zone = _zone(target, outcome, state)
    refused = outcome.outcome == Outcome.REFUSED

    def local(moment: dt.datetime | None) -> dt.datetime | None:
        """Times are shown in the site's zone (UTC when it is not known)."""
        return moment.astimezone(zone or dt.UTC) if moment is not None else None

    return SiteFigures(
        key=target.key,
        name=name,
        amber_site_id=target.amber_site_id,
        energy_site_id=target.energy_site_id,
        outcome=str(outcome.outcome),
        outcome_at=now.astimezone(zone or dt.UTC),
        reason=outcome.reason,
        exit_code=int(outcome.exit_code),
        refusal=outcome.reason if refused else None,
        refusing_since=local(site_state.refusing_since) if refused else None,
        last_success_at=local(_last_success(target.key, outcome, now)),
        amber=amber_now(outcome.intervals, now),
        tariff=tariff_slots(last_push.rates, zone, now) if last_push and zone else (),
        tariff_pushed_at=local(last_push.pushed_at) if last_push else None,
        tariff_verified=tariff_verified(last_push),
        powerwall=PowerwallSeen(
            read_at=local(site_state.last_remote_check),
            mode=site_state.remote_mode,
            export_rule=site_state.remote_export_rule,
            reserve_percent=site_state.remote_reserve,
        ),
        overrides=tuple(
            Override(
                id=o.id,
                kind=o.kind,
                start=local(o.start) or o.start,
                until=local(o.end) or o.end,
                percent=o.percent,
                changes=tuple(o.changes),
                ended=o.overdue(now),
            )
            for o in site_state.manual
            if o.in_force(now) or o.overdue(now)
        ),
    )


def _zone(target: Target, outcome: SiteOutcome, state: State) -> ZoneInfo | None:
    """The zone the site's tariff was built in (the plan's), else the one known for it."""
    name = outcome.plan.timezone if outcome.plan is not None else None
    name = name or known_zone(target.timezone, remembered_zone(state, target.energy_site_id))
    if not name:
        return None
    try:
        return check_timezone(name)
    except ValueError:
        return None


def _last_success(key: str, outcome: SiteOutcome, now: dt.datetime) -> dt.datetime | None:
    """This run's time when it succeeded, else the latest success in the history."""
    from amber_tesla_sync.publish.figures import SUCCESSES
    from amber_tesla_sync.store.history import History

    if outcome.outcome in SUCCESSES:
        return now
    try:
        runs = History().runs(now - SUCCESS_LOOKBACK, site=key, limit=10_000)
    except AppError as error:
        log.debug("no last success from the history: %s", error.message)
        return None
    return next((run.started_at for run in runs if run.outcome in SUCCESSES), None)


def tesla_requests(tesla: TeslaApi | None) -> tuple[TeslaRequests, ...]:
    """The run's Tesla requests by backend (Fleet and, after a fallback, Teslemetry)."""
    if tesla is None:
        return ()
    from amber_tesla_sync.publish.figures import TeslaRequests
    from amber_tesla_sync.tesla.fallback import FallbackConnection

    connection = tesla.connection
    parts = (
        [connection.primary, connection.secondary]
        if isinstance(connection, FallbackConnection)
        else [connection]
    )
    return tuple(
        TeslaRequests(
            part.backend,
            part.requests.get("GET", 0),
            sum(count for method, count in part.requests.items() if method != "GET"),
        )
        for part in parts
    )


def tariff_verified(last_push: LastPush | None) -> bool | None:
    """The last push read back as sent (None: none, or left to the next check, not read yet)."""
    if last_push is None or (last_push.deferred and not last_push.verified):
        return None
    return last_push.verified

"""``sync`` watched: the healthcheck pings around it, the notifications after it, and its figures
published (``[mqtt]``, ``[metrics]``: see :mod:`amber_tesla_sync.sync.published`).

Nothing here can fail the sync: notification, ping and publishing failures are logged. The
memory of what was told lives in state.json and is updated under the run lock. A message that
reached no URL is not remembered as told, so the next run tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from amber_tesla_sync.errors import AppError, AuthError, BusyError, ExitCode, UsageError
from amber_tesla_sync.notify import healthcheck
from amber_tesla_sync.notify.events import RUN, Message, RunFacts, SiteFacts, changes
from amber_tesla_sync.settings.config import Config, NotifySettings
from amber_tesla_sync.store.notify_memory import NotifyMemory
from amber_tesla_sync.store.state import State, load_state, save_state
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import SiteOutcome, SyncOptions, worst
from amber_tesla_sync.sync.published import publish_run
from amber_tesla_sync.sync.run_all import sync_all
from amber_tesla_sync.sync.targets import Target, targets

if TYPE_CHECKING:
    from amber_tesla_sync.tesla.api import TeslaApi

log = logging.getLogger(__name__)
# a refusal is told by its own rule (refusal_after_minutes), not as a failed run
PASSING = (ExitCode.OK, ExitCode.REFUSED)


def site_name(config: Config, target: Target, state: State) -> str:
    """How messages name a site: the owner's name for it (the ``[[sites]]`` entry's ``name``, or
    ``site.name``), else Amber's NMI as recorded at login, else Amber's site id."""
    if config.sites:
        if any(link.name == target.key for link in config.sites):
            return target.key
    elif config.site.name:
        return config.site.name
    cached = state.amber_sites.get(target.amber_site_id)
    if cached is not None and cached.nmi:
        return f"NMI {cached.nmi}"
    return target.amber_site_id


def site_facts(outcome: SiteOutcome, name: str | None = None) -> SiteFacts:
    error = outcome.error
    return SiteFacts(
        site=outcome.site,
        name=name,
        outcome=outcome.outcome,
        reason=outcome.reason,
        exit_code=int(outcome.exit_code),
        error=error.message if error else None,
        hint=error.hint if error else None,
        foreign=outcome.foreign,
        findings={f.key: f.line for f in outcome.findings} if outcome.checked else None,
        owed=outcome.owed,
        override=_override_line(outcome),
    )


def _override_line(outcome: SiteOutcome) -> str | None:
    """The owner's override in force, in the site's time (``charge to 80 % until Mon 17:30``)."""
    override = outcome.override
    if override is None:
        return None
    from zoneinfo import ZoneInfo

    from amber_tesla_sync.sync.overrides import describe

    zone = ZoneInfo(outcome.plan.timezone) if outcome.plan is not None else dt.UTC
    return f"{describe(override, zone)} (override {override.id})"


def run_facts(
    outcomes: list[SiteOutcome], tesla: TeslaApi | None, names: dict[str, str] | None = None
) -> RunFacts:
    connection = tesla.connection if tesla is not None else None
    fleet_error = connection.fleet_error if connection is not None else None
    worked = (connection is not None and connection.primary_worked) or any(
        outcome.backend == "fleet" and outcome.outcome != "failed" for outcome in outcomes
    )
    return RunFacts(
        sites=[site_facts(outcome, (names or {}).get(outcome.site)) for outcome in outcomes],
        fleet_error=fleet_error.message if fleet_error is not None else None,
        fleet_login=isinstance(fleet_error, AuthError),
        fleet_worked=bool(worked),
    )


def tell(
    settings: NotifySettings, memory: NotifyMemory, facts: RunFacts, now: dt.datetime
) -> NotifyMemory:
    """Send what ``facts`` call for; the memory to keep."""
    refusal_after = dt.timedelta(minutes=settings.refusal_after_minutes)
    failure_after = dt.timedelta(minutes=settings.failure_after_minutes)
    messages, remembered = changes(memory, facts, now, refusal_after, failure_after)
    if not settings.urls:
        return remembered  # nobody to tell: the memory still follows the state
    delivered = [deliver(settings.urls, message) for message in messages]
    return remembered if all(delivered) else memory


def deliver(urls: list[str], message: Message) -> bool:
    from amber_tesla_sync.notify.send import send  # Apprise: only when there is someone to tell

    log.info("notifying: %s", message.title)
    return any(result.ok for result in send(urls, message.title, message.body, message.kind))


def summary(outcomes: list[SiteOutcome]) -> str:
    return "\n".join(f"{o.site}: {o.outcome} — {o.reason}" for o in outcomes)


def watched_sync(
    ctx: AppContext,
    site: str | None,
    now: dt.datetime,
    options: SyncOptions,
    sync: Callable[..., tuple[list[SiteOutcome], TeslaApi | None]] = sync_all,
) -> tuple[list[SiteOutcome], TeslaApi | None]:
    """One ``sync`` of the configured sites (or ``site``), pinging, notifying and publishing."""
    settings = ctx.config.notify
    # a dry run is someone trying things out: no pings, no messages, nothing published
    quiet = options.dry_run
    chosen: list[Target] = []
    started = time.monotonic()

    def after(state: State, outcomes: list[SiteOutcome], tesla: TeslaApi | None) -> None:
        if quiet:
            return
        names: dict[str, str] = {}
        try:
            names = {target.key: site_name(ctx.config, target, state) for target in chosen}
            state.notify = tell(settings, state.notify, run_facts(outcomes, tesla, names), now)
        except Exception as error:  # telling must never fail the sync
            log.warning("notifying failed: %s: %s", type(error).__name__, error)
        duration = time.monotonic() - started
        publish_run(ctx, chosen, state, outcomes, tesla, now, duration, names)  # never raises

    try:
        chosen = targets(ctx.config, site)
        if not quiet:
            healthcheck.ping(settings.healthcheck_url, "start")
        outcomes, tesla = sync(ctx, chosen, now, options, after=after)
    except (UsageError, BusyError):
        raise  # someone at the keyboard, or a run still going: neither is a failure to tell
    except AppError as error:
        if not quiet:
            _run_failed(settings, error, now)
        raise
    except MemoryError:  # not a bug: the host or the service's limit ran out of memory
        if not quiet:
            healthcheck.ping(settings.healthcheck_url, "fail", "ran out of memory")
        raise
    except Exception as error:  # a bug: the dead man's switch hears of it at once
        if not quiet:
            healthcheck.ping(settings.healthcheck_url, "fail", f"internal error: {error!r}"[:500])
        raise
    if not quiet:
        code = worst(outcomes)
        signal: healthcheck.Signal = "success" if code in PASSING else "fail"
        healthcheck.ping(settings.healthcheck_url, signal, summary(outcomes))
    return outcomes, tesla


def _run_failed(settings: NotifySettings, error: AppError, now: dt.datetime) -> None:
    """The run stopped before the sites (configuration, secrets, state): ping and tell."""
    healthcheck.ping(settings.healthcheck_url, "fail", error.message)
    facts = RunFacts(
        sites=[
            SiteFacts(RUN, "failed", error.message, int(error.exit_code), error.message, error.hint)
        ]
    )
    try:
        state = load_state()
        state.notify = tell(settings, state.notify, facts, now)
        save_state(state)
    except Exception as problem:  # telling must never hide the run's own error
        log.warning("notifying failed: %s: %s", type(problem).__name__, problem)

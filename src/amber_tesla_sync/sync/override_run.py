"""Starting and clearing an owner's override: a sync of the site under the run lock (the same
Amber fetch and fold, the same refusals), with the override added before it (or ended)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.store.overrides import Kind, Override
from amber_tesla_sync.store.state import State, SyncState, load_state
from amber_tesla_sync.sync import overrides
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import SiteOutcome, SyncOptions
from amber_tesla_sync.sync.published import publish_run
from amber_tesla_sync.sync.run_all import sync_all
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.watched import site_name

if TYPE_CHECKING:
    from amber_tesla_sync.tesla.api import TeslaApi

HINT_CLEAR = "wait for its end, or end it now with `amber-tesla-sync override clear {id}`"


@dataclass(frozen=True)
class Request:
    kind: Kind
    start: dt.datetime
    end: dt.datetime
    percent: float | None = None


@dataclass
class Started:
    override: Override  # as recorded (or as it would have been: ``kept`` False)
    outcome: SiteOutcome
    kept: bool  # False: nothing was changed and the override was dropped
    requests: dict[str, int]  # the Tesla requests made, by method


def current_charge(ctx: AppContext, target: Target) -> float:
    """The battery's charge now (%), for hold's default floor."""
    charge = ctx.tesla().live_status(target.energy_site_id).percentage_charged
    if charge is None:
        raise UsageError(
            "the Powerwall did not say how charged it is", "give the floor: --floor PERCENT"
        )
    return charge


def next_id(state: State) -> str:
    numbers = [int(o.id) for site in state.sync.values() for o in site.manual if o.id.isdigit()]
    return str(max(numbers, default=0) + 1)


def start(
    ctx: AppContext, target: Target, request: Request, zone: dt.tzinfo, now: dt.datetime
) -> Started:
    """Record the override and run the site's sync, which makes its changes after a trusted
    fold; a refused fold (or a failure before any change) drops it again: nothing changed."""
    made: list[Override] = []

    def before(state: State) -> None:
        site = state.sync.setdefault(target.key, SyncState())
        found = overrides.overlapping(site.manual, request.start, request.end)
        if found is not None:
            raise UsageError(
                f"{target.key} has an override already: {found.id} "
                f"({overrides.describe(found, zone)})",
                HINT_CLEAR.format(id=found.id),
            )
        override = Override(
            id=next_id(state),
            kind=request.kind,
            start=request.start,
            end=request.end,
            percent=request.percent,
            wanted=overrides.wanted(request.kind, request.percent),
            started=request.kind == "pause",  # a pause changes nothing: it is in force at once
        )
        site.manual.append(override)
        made.append(override)

    kept: list[bool] = []

    publish = publishing(ctx, [target], now)

    def after(state: State, outcomes: list[SiteOutcome], tesla: TeslaApi | None) -> None:
        site = state.sync[target.key]
        override = next(o for o in site.manual if o.id == made[0].id)
        if not override.started and not override.saved and not override.sent:
            site.manual.remove(override)  # nothing changed: no override
        else:
            kept.append(True)
        publish(state, outcomes, tesla)

    outcomes, tesla = sync_all(ctx, [target], now, SyncOptions(), after=after, before=before)
    return Started(made[0], outcomes[0], bool(kept), requests_of(tesla))


def publishing(
    ctx: AppContext, chosen: list[Target], now: dt.datetime
) -> Callable[[State, list[SiteOutcome], TeslaApi | None], None]:
    """What a sync's run publishes ([mqtt], [metrics]), for an override's run: the figures then
    carry the override started (or, after ``clear``, no longer carry it)."""
    began = time.monotonic()

    def publish(state: State, outcomes: list[SiteOutcome], tesla: TeslaApi | None) -> None:
        names = {target.key: site_name(ctx.config, target, state) for target in chosen}
        publish_run(ctx, chosen, state, outcomes, tesla, now, time.monotonic() - began, names)

    return publish


def requests_of(tesla: TeslaApi | None) -> dict[str, int]:
    return dict(tesla.connection.requests) if tesla is not None else {}


def clear(
    ctx: AppContext, chosen: list[Target], ident: str | None, now: dt.datetime
) -> tuple[list[Override], list[SiteOutcome], dict[str, int]]:
    """End the override ``ident`` (None: every one) now, and sync its site: the owner's values
    are restored and the normal tariff pushed."""
    known = load_state()  # which sites to sync (decided again under the lock)
    wanted = [t for t in chosen if _matching(known.sync.get(t.key, SyncState()).manual, ident, now)]
    if not wanted:
        what = f"no override {ident}" if ident else "no override"
        raise UsageError(
            f"{what} to clear (none in force or waiting for its end)",
            "see `amber-tesla-sync override list`",
        )
    cleared: list[Override] = []

    def before(state: State) -> None:
        for target in wanted:
            site = state.sync.setdefault(target.key, SyncState())
            for item in _matching(site.manual, ident, now):
                item.cleared, item.end = True, min(item.end, now)
                cleared.append(item)

    outcomes, tesla = sync_all(
        ctx, wanted, now, SyncOptions(), before=before, after=publishing(ctx, wanted, now)
    )
    return cleared, outcomes, requests_of(tesla)


def _matching(manual: list[Override], ident: str | None, now: dt.datetime) -> list[Override]:
    return [o for o in manual if o.ended_at is None and ident in (None, o.id)]


def listed(state: State, chosen: list[Target]) -> list[tuple[str, Override]]:
    """Every override of the chosen sites (in force, waiting for a sync to end it, ended)."""
    return [(t.key, o) for t in chosen for o in state.sync.get(t.key, SyncState()).manual]

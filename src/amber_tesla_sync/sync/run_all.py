"""A sync of every configured site: under the run lock, the state loaded once and saved after
each site, Amber's answers fetched for all sites at once and the sites run side by side
(:mod:`amber_tesla_sync.sync.sites`); one site's pass is
:class:`~amber_tesla_sync.sync.run.SiteSync`."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.paths import state_dir
from amber_tesla_sync.store.runlock import run_lock
from amber_tesla_sync.store.state import State, load_state, save_state
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import SiteOutcome, SyncOptions
from amber_tesla_sync.sync.run import SiteSync
from amber_tesla_sync.sync.sites import fetching, run_sites
from amber_tesla_sync.sync.targets import Target

if TYPE_CHECKING:  # made by the caller's factory, only when a run needs Tesla
    from amber_tesla_sync.tesla.api import TeslaApi


def sync_all(
    ctx: AppContext,
    targets: list[Target],
    now: dt.datetime,
    options: SyncOptions,
    sleep: Callable[[float], None] = time.sleep,
    after: Callable[[State, list[SiteOutcome], TeslaApi | None], None] | None = None,
    before: Callable[[State], None] | None = None,
) -> tuple[list[SiteOutcome], TeslaApi | None]:
    """Sync every target (one failing does not stop the others), under the run lock; several
    targets side by side (:func:`run_sites`), their outcomes in the order of ``targets``.

    ``before`` may change the state first (an override begins or ends); ``after`` sees the state
    and the outcomes before its last save (the notifications remember what they told)."""
    with run_lock(state_dir() / "sync.lock"):
        state = load_state()
        if before is not None:
            before(state)
        history = History.checked(keep_days=ctx.config.history.keep_days)
        tesla: list[TeslaApi] = []
        lock = threading.Lock()  # one Tesla client and one state file for every thread

        def api() -> TeslaApi:
            with lock:
                if not tesla:
                    tesla.append(ctx.tesla())
                return tesla[0]

        def save() -> None:
            if not options.dry_run:
                with lock:
                    save_state(state)

        with fetching(ctx, targets, history, state, now) as fetched:

            def run_one(target: Target) -> SiteOutcome:  # it saves the state as it ends
                one = SiteSync(ctx, api, history, state, now, options, save, sleep, fetched)
                return one.run(target)

            outcomes = run_sites(targets, run_one)
        if after is not None:
            after(state, outcomes, tesla[0] if tesla else None)
            save()
        return outcomes, (tesla[0] if tesla else None)

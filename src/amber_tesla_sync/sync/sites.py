"""Several sites in one run, side by side: Amber's prices for every site at once (one client,
one request per Amber site, all in flight together), then each Powerwall's steps in a thread of
its own. Two targets on one Powerwall run one after another, never at the same time; the
outcomes come back in the configured order of the targets, whichever finished first."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from amber_tesla_sync.amber.models import Interval
from amber_tesla_sync.errors import AppError
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.state import State, SyncState
from amber_tesla_sync.sync.clock import check_clock
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.sync.outcome import SiteOutcome
from amber_tesla_sync.sync.sources import PAST_HOURS, Span, fetch_prices
from amber_tesla_sync.sync.targets import Target


@dataclass
class Fetched:
    """One Amber site's answer, fetched ahead of its sites' runs: the prices and the time the
    answer carried, or the error met (raised by each site that uses it)."""

    intervals: list[Interval] = field(default_factory=list)
    server_time: dt.datetime | None = None
    error: AppError | None = None


@contextlib.contextmanager
def fetching(
    ctx: AppContext, targets: Sequence[Target], history: History, state: State, now: dt.datetime
) -> Iterator[Mapping[str, Future[Fetched]] | None]:
    """For several targets, every Amber site's prices at once, through one client, while the
    sites' runs begin (each waits for its own answer only); errors are kept per site, so one
    site failing does not disturb the others. Each target's entry in the state is made here,
    before any thread starts. One target: None (it fetches in its own run, as it always did)."""
    if len(targets) <= 1:
        yield None
        return
    for target in targets:
        state.sync.setdefault(target.key, SyncState())
    wanted = list(dict.fromkeys(target.amber_site_id for target in targets))
    since = now - dt.timedelta(hours=PAST_HOURS)
    recorded = {site: _recorded(history, site, since) for site in wanted}
    from concurrent.futures import ThreadPoolExecutor  # threads only for several sites

    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        try:
            client = ctx.amber()
        except AppError as error:
            failed: Future[Fetched] = Future()
            failed.set_result(Fetched(error=error))
            yield dict.fromkeys(wanted, failed)
            return
        with client:

            def fetch(site: str) -> Fetched:
                try:
                    intervals = fetch_prices(client, state, site, recorded=recorded[site], now=now)
                except AppError as error:
                    return Fetched(error=error)
                return Fetched(intervals, client.server_time)

            try:
                yield {site: pool.submit(fetch, site) for site in wanted}
            finally:
                pool.shutdown(wait=True)  # every fetch done before the client closes


def _recorded(history: History, site: str, since: dt.datetime) -> list[Span]:
    try:
        return list(history.actual_spans(site, since))
    except AppError:
        return []  # said by the site's own run, which reads them too


def run_sites(
    targets: Sequence[Target], run_one: Callable[[Target], SiteOutcome]
) -> list[SiteOutcome]:
    """``run_one`` for every target: each Powerwall's targets in a thread of their own, one after
    another; the outcomes in the order of ``targets``."""
    groups: dict[int, list[int]] = {}
    for index, target in enumerate(targets):
        groups.setdefault(target.energy_site_id, []).append(index)
    outcomes: dict[int, SiteOutcome] = {}

    def serve(indexes: list[int]) -> None:
        for index in indexes:
            outcomes[index] = run_one(targets[index])

    if len(groups) <= 1:
        serve(list(range(len(targets))))
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            for future in [pool.submit(serve, indexes) for indexes in groups.values()]:
                future.result()  # a bug in one thread is raised here, as it would be serially
    return [outcomes[index] for index in range(len(targets))]


def site_prices(
    ctx: AppContext,
    state: State,
    target: Target,
    now: dt.datetime,
    recorded: Sequence[Span],
    fetched: Mapping[str, Future[Fetched]] | None,
) -> list[Interval]:
    """Amber's prices for ``target``: fetched ahead (an error met then is raised now), else
    fetched here, the past day only as far back as the ``recorded`` prices do not reach; then
    the clock is checked against Amber's answer, before anything is written or folded (a wrong
    clock would shift the whole tariff)."""
    waiting = (fetched or {}).get(target.amber_site_id)
    found = waiting.result() if waiting is not None else None
    if found is not None:
        if found.error is not None:
            raise found.error
        intervals, server_time = list(found.intervals), found.server_time
    else:
        with ctx.amber() as client:
            site = target.amber_site_id
            intervals = fetch_prices(client, state, site, recorded=recorded, now=now)
            server_time = client.server_time
    limit = dt.timedelta(minutes=ctx.config.sync.max_clock_skew_minutes)
    check_clock(now, server_time, intervals, limit)
    return intervals

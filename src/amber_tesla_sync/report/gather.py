"""Fetch what ``report`` needs for each day, through the cache in the history database.

- Tesla's energy history: one ``calendar_history`` read per local day. A day fetched after it was
  over (plus a margin for late buckets) is final and never read again; Tesla bills every read.
- Amber's usage: one request per run of up to 7 NEM days. A NEM day is final once it is complete
  and every record is ``billable``; until then (not yet metered, ``estimated`` records that Amber
  still revises) it is asked again on the next report. Amber keeps 90 days.
- Prices where Amber has no usage: the ones ``sync`` recorded in the history.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.client import AmberClient
from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Usage, parse_usage
from amber_tesla_sync.errors import DataError, ServiceError
from amber_tesla_sync.report.compute import compute_day, day_bounds, nem_date
from amber_tesla_sync.report.coverage import tariff_share
from amber_tesla_sync.report.model import PricePoint, SiteReport
from amber_tesla_sync.store.history import FetchCache, History
from amber_tesla_sync.store.override_history import overrides_between
from amber_tesla_sync.store.state import load_state, save_state
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.sync.zones import site_zone
from amber_tesla_sync.tesla.api import TeslaApi
from amber_tesla_sync.tesla.energy import EnergyRow, parse_energy_history

log = logging.getLogger(__name__)
USAGE = "amber-usage"
ENERGY = "tesla-energy"
LATE_DATA = dt.timedelta(minutes=30)  # Tesla's last buckets of a day arrive a little later
AMBER_DAYS = 90  # Amber answers usage for this many days back
AMBER_RANGE = 7  # days per usage request
NEM = dt.timezone(dt.timedelta(hours=10))


@dataclass
class Clients:
    """The service clients, opened only when a fetch is needed (a cached report opens none)."""

    amber_factory: Callable[[], AmberClient]
    tesla_factory: Callable[[], TeslaApi]
    _amber: AmberClient | None = None
    _tesla: TeslaApi | None = None

    def amber(self) -> AmberClient:
        if self._amber is None:
            self._amber = self.amber_factory()
        return self._amber

    def tesla(self) -> TeslaApi:
        if self._tesla is None:
            self._tesla = self.tesla_factory()
        return self._tesla

    @property
    def tesla_reads(self) -> int:
        return self._tesla.connection.requests.get("GET", 0) if self._tesla else 0

    @property
    def amber_requests(self) -> int:
        return self._amber.requests if self._amber else 0

    def close(self) -> None:
        if self._amber is not None:
            self._amber.close()


def _nem_dates(day: dt.date, zone: ZoneInfo) -> list[dt.date]:
    start, end = day_bounds(day, zone)
    first, last = nem_date(start), nem_date(end - dt.timedelta(minutes=1))
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _runs(dates: list[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """Contiguous ranges of at most :data:`AMBER_RANGE` days."""
    begin = prev = None
    for date in sorted(dates):
        if begin is None or prev is None:
            begin = prev = date
        elif (date - prev).days == 1 and (date - begin).days < AMBER_RANGE:
            prev = date
        else:
            yield begin, prev
            begin = prev = date
    if begin is not None and prev is not None:
        yield begin, prev


def _final_usage(rows: list[dict[str, Any]], date: dt.date, now: dt.datetime) -> bool:
    """Complete (24 h of general records), all billable and the NEM day over."""
    minutes = sum(row["duration"] for row in rows if row.get("channelType") == GENERAL)
    day_end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0, 0), NEM)
    billable = all(row.get("quality") == "billable" for row in rows)
    return bool(rows) and minutes >= 24 * 60 and billable and now >= day_end


class Gatherer:
    def __init__(self, clients: Clients, history: History, now: dt.datetime) -> None:
        self.clients = clients
        self.history = history
        self.cache = FetchCache(history)
        self.now = now
        self.tesla_error: str | None = None  # after one failed read, no more are tried

    def site(self, target: Target, choose: Callable[[dt.date], list[dt.date]]) -> SiteReport:
        """The report of ``target`` for the days ``choose`` picks given the site's today."""
        zone = self._zone(target)
        days = choose(self.now.astimezone(zone).date())
        usage = self._usage(target, [d for day in days for d in _nem_dates(day, zone)])
        report = SiteReport(target.key, zone.key)
        for number, day in enumerate(days, start=1):
            log.info("%s: day %d of %d (%s)", target.key, number, len(days), day.isoformat())
            start, end = day_bounds(day, zone)
            energy = self._energy_or_none(target, day, zone)
            rows = [row for row in usage if start <= row.start < end]
            prices = self._prices(target, start, end)
            minutes = _interval_minutes(rows, prices)
            one = compute_day(day, zone, rows, energy or [], prices, minutes, self.now)
            if energy is None:
                one.notes.append(
                    f"the Powerwall's energy history could not be read ({self.tesla_error}): "
                    "the battery figures and the estimates are missing; the next report asks again"
                )
            runs = self.history.runs(start - dt.timedelta(days=7), target.key, limit=100_000)
            one.share = tariff_share([r for r in runs if r.started_at < end], start, end, self.now)
            one.overrides = overrides_between(self.history, target.key, start, end)
            report.days.append(one)
        return report

    def _zone(self, target: Target) -> ZoneInfo:
        """The configured zone, else the Powerwall's (read once from site_info, then cached)."""
        state = load_state()
        learnt: list[bool] = []

        def powerwall_zone() -> str | None:
            learnt.append(True)
            return self.clients.tesla().site(target.energy_site_id).time_zone

        zone = site_zone(state, target.timezone, target.energy_site_id, powerwall_zone)
        if learnt:
            save_state(state)
        return zone

    def _energy_or_none(
        self, target: Target, day: dt.date, zone: ZoneInfo
    ) -> list[EnergyRow] | None:
        """The day's energy history; None when Tesla cannot be read (the bill is still shown).
        A login problem is not hidden: it ends the report with its own message."""
        if self.tesla_error is not None:
            cached = self.cache.get(ENERGY, str(target.energy_site_id), day)
            if cached is None or not cached.final:
                return None
        try:
            return self._energy(target, day, zone)
        except (ServiceError, DataError) as error:
            log.warning("%s: reading the energy history failed: %s", target.key, error.message)
            self.tesla_error = error.first_line
            return None

    def _energy(self, target: Target, day: dt.date, zone: ZoneInfo) -> list[EnergyRow]:
        key = str(target.energy_site_id)
        cached = self.cache.get(ENERGY, key, day)
        if cached is not None and cached.final:
            return parse_energy_history(cached.body, "the saved energy history")
        body = self.clients.tesla().energy_history(target.energy_site_id, day, zone.key)
        rows = parse_energy_history(body)
        final = self.now >= day_bounds(day, zone)[1] + LATE_DATA
        self.cache.put(ENERGY, key, day, body, self.now, final)
        return rows

    def _usage(self, target: Target, dates: list[dt.date]) -> list[Usage]:
        today = nem_date(self.now)
        oldest = today - dt.timedelta(days=AMBER_DAYS - 1)
        site = target.amber_site_id
        found: list[dict[str, Any]] = []
        wanted = []
        for date in sorted(set(dates)):
            cached = self.cache.get(USAGE, site, date)
            if cached is not None and cached.final:
                found.extend(cached.body)
            elif oldest <= date <= today:
                wanted.append(date)
        for begin, last in _runs(wanted):
            fetched = self.clients.amber().usage(site, begin, last)
            by_date: dict[dt.date, list[dict[str, Any]]] = {}
            for row in fetched:
                by_date.setdefault(nem_date(row.start), []).append(
                    row.model_dump(mode="json", by_alias=True, exclude_none=True)
                )
            for n in range((last - begin).days + 1):
                date = begin + dt.timedelta(days=n)
                rows = by_date.get(date, [])
                self.cache.put(
                    USAGE, site, date, rows, self.now, _final_usage(rows, date, self.now)
                )
                found.extend(rows)
        return parse_usage(found, "the saved Amber usage")

    def _prices(self, target: Target, start: dt.datetime, end: dt.datetime) -> list[PricePoint]:
        points = []
        for channel in (GENERAL, FEED_IN):
            for begin, duration, kind, per_kwh in self.history.prices(
                target.amber_site_id, start - dt.timedelta(hours=1), channel
            ):
                if begin < end:
                    stop = begin + dt.timedelta(minutes=duration)
                    points.append(PricePoint(begin, stop, channel, per_kwh, kind))
        return points


def _interval_minutes(usage: list[Usage], prices: list[PricePoint]) -> int:
    """The billing interval: Amber's usage records', else the recorded prices', else 30."""
    durations = [row.duration for row in usage if row.channel_type == GENERAL]
    if not durations:
        durations = [int((p.end - p.start).total_seconds() // 60) for p in prices]
    return min(durations) if durations else 30

"""What a run publishes, as plain data: each site's prices now, the tariff the Powerwall holds,
the run's outcome, the Powerwall's settings as last read; the run's Tesla requests and their
Fleet API cost. Pure: built from what the run already knows (its outcomes and the state), no
request and no clock read here (``now`` is an argument).

Prices are in AUD/kWh. Amber's are as billed (buy) and as earned per kWh exported (sell), before
the tariff's clamps, so a negative price shows; the tariff's are as pushed to the Powerwall.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Interval

PRICE_UNIT = "AUD/kWh"
SLOT = dt.timedelta(minutes=30)
SLOTS = 48  # a tariff covers the coming 24 hours
# what a sync's outcome can be once it is published (a dry run publishes nothing)
OUTCOMES = ("verified", "pushed", "unverified", "unchanged", "refused", "failed")
# the tariff on the Powerwall is the one wanted ("pushed": accepted, read back by the next check)
SUCCESSES = ("verified", "pushed", "unchanged")
# Tesla's Fleet API prices (US dollars): a data request (GET) and a command (POST)
FLEET_DATA_DOLLARS = 0.002
FLEET_COMMAND_DOLLARS = 0.001


@dataclass(frozen=True)
class AmberNow:
    """Amber's interval containing now: prices in AUD/kWh, its descriptor and renewables %."""

    buy: float | None = None
    sell: float | None = None
    descriptor: str | None = None
    renewables: float | None = None
    spike: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclass(frozen=True)
class TariffSlot:
    """One half-hour of the tariff on the Powerwall (AUD/kWh); times in the site's zone."""

    start: dt.datetime
    end: dt.datetime
    label: str  # the tariff's own name for it: the local start, "HH:MM"
    buy: float
    sell: float


@dataclass(frozen=True)
class PowerwallSeen:
    """The Powerwall's settings as the last read of site_info found them (a sync reads no
    live status, so the charge stays unknown: ``status`` shows it)."""

    read_at: dt.datetime | None = None
    mode: str | None = None
    export_rule: str | None = None
    reserve_percent: float | None = None
    charge_percent: float | None = None


@dataclass(frozen=True)
class Override:
    """An owner's override of the site (``amber-tesla-sync override``) in force, or past its end
    but not yet undone by a sync."""

    id: str
    kind: str  # charge, export, hold, pause
    start: dt.datetime
    until: dt.datetime
    percent: float | None = None  # charge: the target; hold: the floor
    changes: tuple[str, ...] = ()  # what it changed on the Powerwall ("backup reserve 20 → 100")
    ended: bool = False  # past its end: a sync has yet to put back what it changed


@dataclass(frozen=True)
class SiteFigures:
    key: str  # the site's name in logs, state and history
    name: str  # the site's name for people (site.name, the [[sites]] name, the NMI, …)
    amber_site_id: str
    energy_site_id: int
    outcome: str
    outcome_at: dt.datetime
    reason: str
    exit_code: int
    refusal: str | None = None
    refusing_since: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    amber: AmberNow = field(default_factory=AmberNow)
    tariff: tuple[TariffSlot, ...] = ()
    tariff_pushed_at: dt.datetime | None = None
    tariff_verified: bool | None = None
    powerwall: PowerwallSeen = field(default_factory=PowerwallSeen)
    overrides: tuple[Override, ...] = ()

    def slot_at(self, moment: dt.datetime) -> TariffSlot | None:
        # compared as instants: two times of one zone compare by the wall clock, which is wrong
        # in the hour that comes twice when daylight saving ends
        when = moment.timestamp()
        return next(
            (s for s in self.tariff if s.start.timestamp() <= when < s.end.timestamp()), None
        )

    @property
    def tariff_now(self) -> TariffSlot | None:
        return self.slot_at(self.outcome_at)

    @property
    def tariff_next(self) -> TariffSlot | None:
        now = self.tariff_now
        return self.slot_at(now.end) if now is not None else None

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"


@dataclass(frozen=True)
class TeslaRequests:
    """The Tesla requests of a run through one backend."""

    backend: str  # "fleet" | "teslemetry"
    reads: int
    writes: int

    @property
    def fleet_dollars(self) -> float:
        if self.backend != "fleet":
            return 0.0
        return self.reads * FLEET_DATA_DOLLARS + self.writes * FLEET_COMMAND_DOLLARS


@dataclass(frozen=True)
class RunFigures:
    at: dt.datetime
    duration_seconds: float
    exit_code: int
    sites: tuple[SiteFigures, ...]
    requests: tuple[TeslaRequests, ...] = ()

    @property
    def fleet_dollars(self) -> float:
        return round(sum(r.fleet_dollars for r in self.requests), 6)


def amber_now(intervals: Sequence[Interval], now: dt.datetime) -> AmberNow:
    """The prices of the interval containing ``now`` (Amber's current one first)."""
    general = _containing(intervals, GENERAL, now)
    feed_in = _containing(intervals, FEED_IN, now)
    if general is None and feed_in is None:
        return AmberNow()
    span = general or feed_in
    assert span is not None
    return AmberNow(
        buy=round(general.per_kwh / 100, 8) if general is not None else None,
        sell=round(-feed_in.per_kwh / 100, 8) if feed_in is not None else None,
        descriptor=general.descriptor if general is not None else None,
        renewables=float(general.renewables)
        if general is not None and general.renewables is not None
        else None,
        spike=general.spike_status if general is not None else None,
        start=span.start,
        end=span.end,
    )


def _containing(intervals: Sequence[Interval], channel: str, now: dt.datetime) -> Interval | None:
    found = [i for i in intervals if i.channel_type == channel and i.start <= now < i.end]
    found.sort(key=lambda i: (i.type != "CurrentInterval", i.duration))
    return found[0] if found else None


def tariff_slots(
    rates: Mapping[str, Sequence[float]], zone: ZoneInfo, now: dt.datetime
) -> tuple[TariffSlot, ...]:
    """The coming 24 hours of a pushed tariff (rates by local start "HH:MM" → [buy, sell]),
    from the half-hour containing ``now``. A local time with no rate (a zone off the half-hour
    grid) is left out."""
    start = _floor(now)
    slots = []
    for index in range(SLOTS):
        begins = (start + index * SLOT).astimezone(zone)
        label = f"{begins:%H:%M}"
        rate = rates.get(label)
        if rate is not None and len(rate) >= 2:
            ends = (start + (index + 1) * SLOT).astimezone(zone)
            slots.append(TariffSlot(begins, ends, label, float(rate[0]), float(rate[1])))
    return tuple(slots)


def _floor(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC half-hour containing ``moment`` (every NEM zone's half-hours are
    UTC half-hours)."""
    utc = moment.astimezone(dt.UTC)
    return utc.replace(minute=utc.minute - utc.minute % 30, second=0, microsecond=0)


def short(text: str | None, limit: int = 255) -> str | None:
    """``text`` within ``limit`` characters (Home Assistant's limit for a state)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"

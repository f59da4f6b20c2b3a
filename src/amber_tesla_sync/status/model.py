"""What the ``status`` and ``history`` views receive: plain data, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from amber_tesla_sync.status.explain import Drift, Why
from amber_tesla_sync.store.history import RunRecord
from amber_tesla_sync.store.state import SyncState
from amber_tesla_sync.sync.powerwall_checks import Finding
from amber_tesla_sync.sync.targets import Target
from amber_tesla_sync.tariff.model import DemandPlan
from amber_tesla_sync.tesla.models import LiveStatus, SiteInfo


class Run(Protocol):
    """One recorded sync run, as this view reads it."""

    @property
    def started_at(self) -> dt.datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def pushed(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def exit_code(self) -> int: ...


PricePoint = tuple[dt.datetime, int, str, float]  # start, minutes, kind, buy price (c/kWh)


@dataclass(frozen=True)
class SiteHistory:
    """What ``history`` shows for one site: its runs and prices since a time, and its zone."""

    key: str
    zone: dt.tzinfo
    runs: Sequence[Run]
    prices: Sequence[PricePoint]
    sell: Sequence[PricePoint] = ()  # the feed-in channel's prices, as earned (paid: positive)


@dataclass
class PriceNow:
    per_kwh: float
    descriptor: str | None
    renewables: float | None
    spike: str
    estimate: bool | None
    kind: str


@dataclass
class SiteStatus:
    target: Target
    zone: str | None = None  # the site's zone, if known and usable (the plan needs it)
    shown: dt.tzinfo = dt.UTC  # the zone times are shown in (sync/zones.py's rule)
    buy: PriceNow | None = None
    sell: PriceNow | None = None
    amber_error: str | None = None
    live: LiveStatus | None = None
    info: SiteInfo | None = None
    tesla_error: str | None = None
    last_run: RunRecord | None = None
    sync_state: SyncState | None = None
    plan: list[tuple[str, dt.datetime, float, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    last_ok: RunRecord | None = None
    why: Why | None = None
    drift: Drift | None = None
    demand: DemandPlan | None = None  # the demand window of the Powerwall's tariff (or set, none)

"""What ``report`` knows about one day: pure data, no I/O.

Energy in kWh, prices in c/kWh (buy = what you pay per kWh imported, sell = what you earn per kWh
exported: Amber's feed-in ``perKwh`` with its sign reversed), money in dollars (AUD, GST included;
positive = you pay, for bills; positive = you earn, for earnings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from amber_tesla_sync.store.override_history import OverrideRecord


@dataclass(frozen=True)
class PricePoint:
    """A price recorded by ``sync`` (the fallback where Amber has no usage record)."""

    start: dt.datetime
    end: dt.datetime
    channel: str  # general | feedIn
    per_kwh: float  # Amber's perKwh, c/kWh, Amber's sign
    kind: str = "ActualInterval"  # Actual, Current or Forecast: the best known is used


@dataclass
class Flows:
    """The Powerwall's energy in one billing interval (kWh), summed from its 5-minute buckets."""

    buckets: int = 0
    solar: float = 0.0
    home: float = 0.0
    grid_import: float = 0.0
    grid_export: float = 0.0
    charge_grid: float = 0.0
    charge_solar: float = 0.0
    discharge: float = 0.0
    to_home: float = 0.0
    to_grid: float = 0.0
    # home and solar alone, bucket by bucket: what the grid would have seen without the battery
    plain_import: float = 0.0
    plain_export: float = 0.0


@dataclass
class Slot:
    """One billing interval of the day."""

    start: dt.datetime
    end: dt.datetime
    buy: float | None = None  # c/kWh; None: no price known
    sell: float | None = None
    bought: float = 0.0  # kWh from the grid (Amber's meter, or Tesla's where estimated)
    cost: float = 0.0  # $
    sold: float = 0.0  # kWh to the grid
    earnings: float = 0.0  # $
    controlled_load_cost: float = 0.0  # $
    metered: bool = False  # Amber has usage records for every channel of this interval
    estimated: bool = False  # figures from Tesla's energy and the recorded prices
    unpriced: bool = False  # neither usage nor a recorded price: money figures are missing
    flows: Flows | None = None  # None: Tesla has no history for this interval


@dataclass(frozen=True)
class Money:
    """A bill: what was bought and sold and what it cost or earned."""

    bought: float  # kWh
    cost: float  # $
    sold: float  # kWh
    earnings: float  # $

    @property
    def net(self) -> float:
        """What the day cost ($; negative = the day earned money)."""
        return self.cost - self.earnings


@dataclass(frozen=True)
class Reconciliation:
    """Grid import − export by Tesla's meter and by Amber's, over the intervals both have."""

    intervals: int
    tesla_net: float  # kWh
    amber_net: float  # kWh
    tolerance: float  # kWh

    @property
    def difference(self) -> float:
        return self.tesla_net - self.amber_net

    @property
    def agrees(self) -> bool:
        return abs(self.difference) <= self.tolerance


@dataclass(frozen=True)
class TariffShare:
    """How the day's time was spent, from the sync history (seconds)."""

    ours: float  # the tool's tariff, kept up to date by sync
    kept: float  # the tool's last good tariff, while syncs refused or failed
    foreign: float  # another tariff was found on the Powerwall
    unknown: float  # no sync had run yet
    span: float  # the part of the day covered (the whole day, or up to now)

    def fraction(self, seconds: float) -> float:
        return seconds / self.span if self.span > 0 else 0.0

    @property
    def tool_fraction(self) -> float:
        """The share of the day the Powerwall ran the tool's tariff (up to date or kept)."""
        return self.fraction(self.ours + self.kept)


@dataclass
class DayReport:
    day: dt.date
    zone: str
    slots: list[Slot]
    bill: Money  # the real bill: Amber's records (estimated where they are missing)
    controlled_load_cost: float
    without_battery: Money | None  # home and solar alone, at the same prices (Tesla's meter)
    with_battery: Money | None  # Tesla's grid flows at the same prices (to compare like with like)
    charged: float  # kWh into the battery
    discharged: float  # kWh out of the battery
    charge_price: float | None  # c/kWh: grid charging at the buy price, solar at the lost sell
    discharge_price: float | None  # c/kWh: to the home at the buy price saved, to the grid sold
    reconciliation: Reconciliation | None
    share: TariffShare | None = None
    complete: bool = True  # the whole day is over
    notes: list[str] = field(default_factory=list)
    # the owner's overrides that touched the day (the prices did not decide all of it)
    overrides: list[OverrideRecord] = field(default_factory=list)

    @property
    def net_bill(self) -> float:
        return self.bill.net + self.controlled_load_cost

    @property
    def battery_value(self) -> float | None:
        """What the battery saved: the bill without it minus the bill with it, both from Tesla's
        meter at the same interval prices (so metering differences do not count as savings)."""
        if self.without_battery is None or self.with_battery is None:
            return None
        return self.without_battery.net - self.with_battery.net

    @property
    def estimated_intervals(self) -> int:
        return sum(slot.estimated for slot in self.slots)

    @property
    def unpriced_intervals(self) -> int:
        return sum(slot.unpriced for slot in self.slots)

    @property
    def tesla_missing(self) -> int:
        return sum(slot.flows is None for slot in self.slots)

    @property
    def estimated(self) -> bool:
        return self.estimated_intervals > 0 or self.unpriced_intervals > 0


@dataclass
class SiteReport:
    site: str
    zone: str
    days: list[DayReport] = field(default_factory=list)

"""Data types of the fold: options in, a plan (or a refusal) out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

ForecastPrice = Literal["predicted", "low", "high", "per_kwh"]
DemandDays = Literal["all", "weekdays"]
DemandSource = Literal["amber", "settings", "none", "tariff"]
"""Where a demand window came from: Amber's marks, the settings' hours, nowhere (no window), or a
tariff read back."""


class Source(StrEnum):
    """Where a slot's price came from."""

    ACTUAL = "actual"
    CURRENT = "current"
    FORECAST = "forecast"
    GAP_FILLED = "gap-filled"
    ESTIMATED = "estimated"  # beyond the forecast horizon: persistence estimate
    CARRIED = "carried"  # beyond the horizon, nothing known: last in-horizon slot carried forward
    NO_CHANNEL = "no-channel"  # the site has no feed-in channel: sell is 0


LIVE = frozenset({Source.ACTUAL, Source.CURRENT, Source.FORECAST})
"""Sources backed by Amber data for the slot itself."""


# The fold's defaults, defined here once; the settings (settings/config.py) use them too.
FORECAST_PRICE: ForecastPrice = "predicted"
"""Default of ``amber.forecast_price``: Amber's own best estimate."""
MAX_GAP_SLOTS = 4
"""Default of ``tariff.max_gap_slots``: two hours of missing data per channel may be filled."""
MIN_HORIZON_HOURS = 12.0
"""Default of ``tariff.min_horizon_hours``: AEMO pre-dispatch reaches the end of the next trading
day (04:00 NEM time), so Amber's forecasts reach 15–40 h ahead; they are shortest, about 15 h,
late in the morning before the day's new run is published. 12 h leaves room for a late run."""
CLOCK_SLACK_MINUTES = 5.0
"""Default of ``sync.max_clock_skew_minutes``: how far actual/current intervals may be off."""


@dataclass(frozen=True)
class DemandOptions:
    """The demand settings the fold uses: the charge, and the window where Amber marks none."""

    charge_per_kw: float  # $/kW, > 0
    window: tuple[int, int] | None = None  # local minutes of the day [start, end); None: Amber only
    days: DemandDays = "all"


@dataclass(frozen=True)
class DemandPlan:
    """The demand window of one tariff: the charge, where the window came from, its slots."""

    charge_per_kw: float
    source: DemandSource
    labels: frozenset[str]  # the slots ("HH:MM") in the window

    def rates(self) -> dict[str, float]:
        """``{"HH:MM": $/kW}`` for the 48 labels (0 outside the window); empty without a window."""
        if not self.labels:
            return {}
        return {label_of(m): self.rate(label_of(m)) for m in range(0, 24 * 60, 30)}

    def rate(self, label: str) -> float:
        return self.charge_per_kw if label in self.labels else 0.0


def label_of(minute: int) -> str:
    """Minute of the day → its slot label, ``"HH:MM"``."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class FoldOptions:
    forecast_price: ForecastPrice = FORECAST_PRICE
    allow_sell_above_buy: bool = False
    max_gap_slots: int = MAX_GAP_SLOTS
    min_horizon_hours: float = MIN_HORIZON_HOURS  # each channel's live data must reach this far
    expected_channels: frozenset[str] = frozenset()  # channels the site is known to have
    clock_slack_minutes: float = CLOCK_SLACK_MINUTES  # how far actual/current may be off ``now``
    demand: DemandOptions | None = None  # a demand charge for the demand window (tariff.demand)


@dataclass(frozen=True)
class SlotSpan:
    """A tariff slot: its label (local start ``HH:MM``) and the instants it stands for."""

    label: str  # "HH:MM", local time of the site
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC

    @property
    def period_name(self) -> str:
        return "PERIOD_" + self.label.replace(":", "_")


@dataclass(frozen=True)
class ChannelValue:
    """One channel's price for one slot, before units, signs and clamps (c/kWh)."""

    price: float
    source: Source
    spike: str = "none"  # "none" | "potential" | "spike" among the intervals used
    per_kwh_fallback: bool = False  # a forecast without advancedPrice used perKwh


@dataclass(frozen=True)
class Slot:
    """One of the 48 slots with what a preview needs to explain it."""

    span: SlotSpan
    buy: float  # $/kWh, as pushed
    sell: float  # $/kWh, as pushed
    general: ChannelValue
    feed_in: ChannelValue | None  # None when the site has no feed-in channel
    buy_clamped: bool = False  # a negative buy price became 0
    sell_clamped: bool = False  # a negative sell price became 0
    sell_capped: bool = False  # sell was lowered to buy
    demand_window: bool = False  # in the demand window: the tariff carries the demand charge here

    @property
    def label(self) -> str:
        return self.span.label

    @property
    def spike(self) -> str:
        statuses = {self.general.spike, self.feed_in.spike if self.feed_in else "none"}
        for status in ("spike", "potential"):
            if status in statuses:
                return status
        return "none"

    @property
    def estimated(self) -> bool:
        return self.general.source in (Source.ESTIMATED, Source.CARRIED) or (
            self.feed_in is not None and self.feed_in.source in (Source.ESTIMATED, Source.CARRIED)
        )


@dataclass(frozen=True)
class TariffPlan:
    """The fold's result: 48 slots in time order and the exact request body to POST."""

    slots: tuple[Slot, ...]
    body: dict[str, Any]
    timezone: str
    now: dt.datetime
    options: FoldOptions
    has_feed_in: bool
    demand: DemandPlan | None = None  # with options.demand: the window (perhaps none) and charge


@dataclass(frozen=True)
class Refusal:
    """The fold refuses: the data cannot be trusted, or too many slots have none. Nothing may be
    pushed; the Powerwall keeps its last tariff."""

    missing: dict[str, tuple[SlotSpan, ...]]  # channel → the slots without data (may be empty)
    max_gap_slots: int
    timezone: str
    now: dt.datetime
    reasons: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> str:
        """One line: why nothing was pushed."""
        return "refused to build a tariff: " + "; ".join(self.reasons) + "."

    @property
    def message(self) -> str:
        """The whole explanation, with the slots that lack data in the site's local time."""
        zone = ZoneInfo(self.timezone)
        lines = [self.summary]
        for channel, spans in self.missing.items():
            names = ", ".join(
                f"{span.start.astimezone(zone):%a %H:%M}"
                for span in sorted(spans, key=lambda s: s.start)
            )
            lines.append(f"  missing {channel} slots ({self.timezone}): {names}")
        lines.append("The Powerwall keeps its current tariff; nothing was pushed.")
        return "\n".join(lines)

"""Totals over the days of a report (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from amber_tesla_sync.report.model import DayReport, Money


@dataclass(frozen=True)
class Totals:
    bill: Money
    net_bill: float
    without_battery: Money | None
    battery_value: float | None
    tool_fraction: float | None  # time-weighted over the days
    estimated: bool


def _sum(items: Sequence[Money]) -> Money:
    return Money(
        sum(m.bought for m in items),
        sum(m.cost for m in items),
        sum(m.sold for m in items),
        sum(m.earnings for m in items),
    )


def totals(days: Sequence[DayReport]) -> Totals:
    plain = [d.without_battery for d in days if d.without_battery is not None]
    values = [d.battery_value for d in days if d.battery_value is not None]
    shares = [d.share for d in days if d.share is not None]
    span = sum(s.span for s in shares)
    return Totals(
        bill=_sum([d.bill for d in days]),
        net_bill=sum(d.net_bill for d in days),
        without_battery=_sum(plain) if plain else None,
        battery_value=sum(values) if values else None,
        tool_fraction=sum(s.ours + s.kept for s in shares) / span if span > 0 else None,
        estimated=any(d.estimated for d in days),
    )

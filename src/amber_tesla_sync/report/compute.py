"""One day's figures from Amber's usage, Tesla's energy history and the recorded prices (pure).

- The day is the site's local calendar day, cut into billing intervals (the site's length).
- Where Amber has usage records, they are the bill: kWh and cost as Amber charged them.
- Where it has none (not yet metered, gaps), the interval is *estimated*: Tesla's grid import and
  export at the prices ``sync`` recorded; with no price either, it is *unpriced*.
- Without the battery: home and solar only, bucket by bucket (5 minutes), import = what the home
  used beyond the solar, export = the solar the home did not use, at the same interval prices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import CONTROLLED_LOAD, FEED_IN, GENERAL, Usage
from amber_tesla_sync.report.model import (
    DayReport,
    Flows,
    Money,
    PricePoint,
    Reconciliation,
    Slot,
)
from amber_tesla_sync.tesla.energy import EnergyRow

NOISE_KWH = 0.2  # metering noise allowed between Tesla's and Amber's meters, per day
NOISE_SHARE = 0.02  # … or this share of the energy through the meter, whichever is larger


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The local day [00:00, next 00:00) in UTC (23 or 25 hours on daylight-saving days)."""
    start = dt.datetime.combine(day, dt.time(0, 0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), zone).astimezone(dt.UTC)
    return start, end


def nem_date(start: dt.datetime) -> dt.date:
    """The NEM day (UTC+10, no daylight saving) an interval starting at ``start`` belongs to."""
    return (start.astimezone(dt.UTC) + dt.timedelta(hours=10)).date()


def _slots(start: dt.datetime, end: dt.datetime, minutes: int) -> list[Slot]:
    step = dt.timedelta(minutes=minutes)
    slots, moment = [], start
    while moment < end:
        slots.append(Slot(moment, min(moment + step, end)))
        moment += step
    return slots


_KIND_RANK = {"ActualInterval": 2, "CurrentInterval": 1}


def _recorded(points: Sequence[PricePoint], channel: str, slot: Slot) -> float | None:
    """The overlap-weighted mean recorded price of ``channel`` over ``slot``, from the best kind
    recorded for it (an actual price over a forecast one kept from an earlier run)."""
    found: dict[int, list[tuple[float, float]]] = {}
    for point in points:
        if point.channel != channel:
            continue
        overlap = (min(point.end, slot.end) - max(point.start, slot.start)).total_seconds()
        if overlap > 0:
            found.setdefault(_KIND_RANK.get(point.kind, 0), []).append((point.per_kwh, overlap))
    if not found:
        return None
    best = found[max(found)]
    return sum(price * weight for price, weight in best) / sum(weight for _, weight in best)


def _add_flows(flows: Flows, row: EnergyRow) -> None:
    kwh = 1000.0
    flows.buckets += 1
    flows.solar += row.solar / kwh
    flows.home += row.home / kwh
    flows.grid_import += row.grid_import / kwh
    flows.grid_export += row.grid_export / kwh
    flows.charge_grid += row.battery_charge_grid / kwh
    flows.charge_solar += row.battery_charge_solar / kwh
    flows.discharge += row.battery_discharge / kwh
    flows.to_home += row.battery_to_home / kwh
    flows.to_grid += row.battery_to_grid / kwh
    surplus = (row.solar - row.home) / kwh
    flows.plain_import += max(-surplus, 0.0)
    flows.plain_export += max(surplus, 0.0)


def _usage_into(slot: Slot, rows: list[Usage], has_feed_in: bool) -> tuple[bool, bool]:
    """Amber's records of the interval; returns which of import and export they cover."""
    general = [row for row in rows if row.channel_type == GENERAL]
    feed_in = [row for row in rows if row.channel_type == FEED_IN]
    for row in rows:
        if row.channel_type == CONTROLLED_LOAD:
            slot.controlled_load_cost += row.cost / 100
    if general:
        slot.bought = sum(abs(row.kwh) for row in general)
        slot.cost = sum(row.cost for row in general) / 100
        slot.buy = sum(row.per_kwh for row in general) / len(general)
    if feed_in:
        slot.sold = sum(abs(row.kwh) for row in feed_in)
        slot.earnings = -sum(row.cost for row in feed_in) / 100
        slot.sell = -sum(row.per_kwh for row in feed_in) / len(feed_in)
    covered = bool(general), bool(feed_in) or not has_feed_in
    slot.metered = all(covered)
    return covered


def _estimate(
    slot: Slot, covered: tuple[bool, bool], prices: Sequence[PricePoint], has_feed_in: bool
) -> None:
    """The part of an interval Amber has no record of: Tesla's grid flow at the recorded price."""
    if slot.buy is None:
        slot.buy = _recorded(prices, GENERAL, slot)
    if slot.sell is None:
        recorded = _recorded(prices, FEED_IN, slot)
        slot.sell = -recorded if recorded is not None else (None if has_feed_in else 0.0)
    if slot.metered:
        return
    if slot.flows is None:
        slot.unpriced = True
        return
    slot.estimated = True
    if not covered[0]:
        slot.bought = slot.flows.grid_import
        slot.cost = slot.bought * slot.buy / 100 if slot.buy is not None else 0.0
        slot.unpriced = slot.unpriced or slot.buy is None
    if not covered[1]:
        slot.sold = slot.flows.grid_export
        slot.earnings = slot.sold * slot.sell / 100 if slot.sell is not None else 0.0
        slot.unpriced = slot.unpriced or slot.sell is None


def _priced(slots: Sequence[Slot], imported: str, exported: str) -> Money | None:
    """Tesla's ``imported``/``exported`` flows at each interval's prices (priced intervals)."""
    chosen = [s for s in slots if s.flows is not None and s.buy is not None and s.sell is not None]
    if not chosen:
        return None
    bought = sold = cost = earnings = 0.0
    for slot in chosen:
        assert slot.flows is not None and slot.buy is not None and slot.sell is not None
        take, give = getattr(slot.flows, imported), getattr(slot.flows, exported)
        bought += take
        sold += give
        cost += take * slot.buy / 100
        earnings += give * slot.sell / 100
    return Money(bought, cost, sold, earnings)


def _average(pairs: Sequence[tuple[float, float | None]]) -> float | None:
    """The energy-weighted mean price of ``(kWh, c/kWh)`` pairs (unpriced ones left out)."""
    energy = sum(kwh for kwh, price in pairs if price is not None)
    if energy <= 0:
        return None
    return sum(kwh * price for kwh, price in pairs if price is not None) / energy


def _reconcile(slots: Sequence[Slot]) -> Reconciliation | None:
    both = [s for s in slots if s.metered and s.flows is not None]
    if not both:
        return None
    tesla = sum(s.flows.grid_import - s.flows.grid_export for s in both if s.flows)
    amber = sum(s.bought - s.sold for s in both)
    through = sum(s.flows.grid_import + s.flows.grid_export for s in both if s.flows)
    return Reconciliation(len(both), tesla, amber, max(NOISE_KWH, NOISE_SHARE * through))


def compute_day(
    day: dt.date,
    zone: ZoneInfo,
    usage: Sequence[Usage],
    energy: Sequence[EnergyRow],
    prices: Sequence[PricePoint],
    interval_minutes: int,
    now: dt.datetime,
) -> DayReport:
    """The figures of ``day`` (see the module's docstring); ``now`` cuts off a day not yet over."""
    start, end = day_bounds(day, zone)
    cut = min(end, max(start, now))
    slots = _slots(start, cut, interval_minutes)
    has_feed_in = any(row.channel_type == FEED_IN for row in usage) or any(
        point.channel == FEED_IN for point in prices
    )
    step = dt.timedelta(minutes=interval_minutes)

    def slot_of(moment: dt.datetime) -> Slot | None:
        found = index.get(start + ((moment - start) // step) * step) if moment >= start else None
        return found if found is not None and moment < found.end else None

    index = {slot.start: slot for slot in slots}
    records: dict[dt.datetime, list[Usage]] = {}
    for record in usage:
        into = slot_of(record.start)
        if into is not None:
            records.setdefault(into.start, []).append(record)
    for row in energy:
        into = slot_of(row.start)
        if into is not None:
            into.flows = into.flows or Flows()
            _add_flows(into.flows, row)
    for slot in slots:
        covered = _usage_into(slot, records.get(slot.start, []), has_feed_in)
        _estimate(slot, covered, prices, has_feed_in)
    metered = [s for s in slots if s.metered or s.estimated]
    flows = [s for s in slots if s.flows is not None]
    report = DayReport(
        day=day,
        zone=zone.key,
        slots=slots,
        bill=Money(
            sum(s.bought for s in metered),
            sum(s.cost for s in metered),
            sum(s.sold for s in metered),
            sum(s.earnings for s in metered),
        ),
        controlled_load_cost=sum(s.controlled_load_cost for s in slots),
        without_battery=_priced(slots, "plain_import", "plain_export"),
        with_battery=_priced(slots, "grid_import", "grid_export"),
        charged=sum(s.flows.charge_grid + s.flows.charge_solar for s in flows if s.flows),
        discharged=sum(s.flows.discharge for s in flows if s.flows),
        charge_price=_average(
            [(s.flows.charge_grid, s.buy) for s in flows if s.flows]
            + [(s.flows.charge_solar, s.sell) for s in flows if s.flows]
        ),
        discharge_price=_average(
            [(s.flows.to_home, s.buy) for s in flows if s.flows]
            + [(s.flows.to_grid, s.sell) for s in flows if s.flows]
        ),
        reconciliation=_reconcile(slots),
        complete=cut >= end,
    )
    _notes(report)
    return report


def _notes(report: DayReport) -> None:
    if not report.complete:
        report.notes.append("the day is not over: figures up to now")
    if report.estimated_intervals:
        report.notes.append(
            f"{report.estimated_intervals} of {len(report.slots)} intervals have no Amber usage "
            "record (not yet metered, or a gap): estimated from the Powerwall's grid flows at "
            "the recorded prices"
        )
    if report.unpriced_intervals:
        report.notes.append(
            f"{report.unpriced_intervals} intervals have neither Amber usage nor a recorded "
            "price (or no Powerwall history): their money is missing from the totals"
        )
    if report.tesla_missing:
        report.notes.append(
            f"the Powerwall's history has no data for {report.tesla_missing} intervals: "
            "the battery figures leave them out"
        )
    rec = report.reconciliation
    if rec is not None and not rec.agrees:
        report.notes.append(
            f"Tesla's and Amber's meters disagree: grid import − export {rec.tesla_net:.2f} kWh "
            f"(Powerwall) against {rec.amber_net:.2f} kWh (Amber), {rec.difference:+.2f} kWh"
        )

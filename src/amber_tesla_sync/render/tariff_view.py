"""How ``tariff`` shows a plan (table, chart, summary) and a refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.render.envelope import cents, iso
from amber_tesla_sync.tariff.demand import describe, windows
from amber_tesla_sync.tariff.model import ChannelValue, DemandPlan, Slot, Source, TariffPlan

if TYPE_CHECKING:  # rich is imported by the functions that draw (sync's summary line does not)
    from rich.console import Console
    from rich.table import Table

SOURCE_MARK = {
    Source.ACTUAL: "A",
    Source.CURRENT: "C",
    Source.FORECAST: "F",
    Source.GAP_FILLED: "G",
    Source.ESTIMATED: "E",
    Source.CARRIED: "L",
    Source.NO_CHANNEL: "-",
}
LEGEND = (
    "Source (buy/sell): A actual · C current · F forecast · G gap filled from a neighbour · "
    "E estimated beyond the forecast horizon (same time on the last day with data) · "
    "L last known price carried forward · - no feed-in channel"
)


def local_name(moment: dt.datetime, zone: ZoneInfo, with_day: bool = True) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%a %H:%M" if with_day else "%H:%M")


def _cents(dollars: float) -> str:
    return f"{dollars * 100:.2f}"


def _mark(value: ChannelValue | None) -> str:
    return SOURCE_MARK[value.source] if value is not None else "-"


def _notes(slot: Slot) -> str:
    notes = []
    if slot.buy_clamped:
        notes.append("buy<0→0")
    if slot.sell_clamped:
        notes.append("sell<0→0")
    if slot.sell_capped:
        notes.append("sell capped at buy")
    if slot.general.per_kwh_fallback or (slot.feed_in and slot.feed_in.per_kwh_fallback):
        notes.append("perKwh (no advancedPrice)")
    return ", ".join(notes)


NARROW = 72  # below this many columns the table keeps only what each slot costs
DEMAND_FROM = {
    "amber": "marked by Amber",
    "settings": "from demand.window",
    "tariff": "in the Powerwall's tariff",
}


def demand_line(demand: DemandPlan) -> str:
    """``demand window 16:00–21:00 at $0.50/kW (marked by Amber)``, or why there is none."""
    charge = f"${demand.charge_per_kw:.2f}/kW"
    if demand.labels:
        return f"demand window {describe(demand)} at {charge} ({DEMAND_FROM[demand.source]})"
    if demand.source == "settings":
        return (
            f"demand charge {charge}, but no slot of the next 24 h is in demand.window on "
            "demand.days"
        )
    if demand.source == "tariff":
        return (
            f"demand charge {charge} set, but the Powerwall's tariff has no demand window (none "
            "in the next 24 h, or not pushed yet)"
        )
    return (
        f"demand charge {charge}, but no demand window is known: Amber marks none in its prices "
        "and demand.window is unset"
    )


def demand_json(demand: DemandPlan | None) -> dict[str, Any] | None:
    if demand is None:
        return None
    return {
        "charge_per_kw": demand.charge_per_kw,
        "source": demand.source,
        "windows": [
            {
                "from": f"{start // 60 % 24:02d}:{start % 60:02d}",
                "to": f"{end // 60 % 24:02d}:{end % 60:02d}",
            }
            for start, end in windows(demand.labels)
        ],
        "slots": sorted(demand.labels),
        "explanation": demand_line(demand),
    }


def plan_table(plan: TariffPlan, width: int = 100) -> Table:
    """The 48 slots; on a narrow terminal without the start time and the notes, so that no
    price is cut (``tariff --json`` has everything)."""
    from rich.table import Table
    from rich.text import Text

    zone = ZoneInfo(plan.timezone)
    narrow = width < NARROW
    demand = plan.demand is not None and bool(plan.demand.labels)
    table = Table(
        title=f"Tariff for the next 24 h ({plan.timezone}, from {local_name(plan.now, zone)})"
        + (", c/kWh" if narrow else ""),
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("Slot", no_wrap=True)
    if not narrow:
        table.add_column("Starts")
    table.add_column("Buy" if narrow else "Buy c/kWh", justify="right", no_wrap=True)
    table.add_column("Sell" if narrow else "Sell c/kWh", justify="right", no_wrap=True)
    table.add_column("Src", no_wrap=True)
    table.add_column("Spike", no_wrap=True)
    if demand:
        table.add_column("Dmd", no_wrap=True)
    if not narrow:
        table.add_column("Notes")
    for slot in plan.slots:
        spike = {"spike": "SPIKE", "potential": "maybe"}.get(slot.spike, "")
        starts = [] if narrow else [local_name(slot.span.start, zone)]
        notes = [] if narrow else [_notes(slot)]
        window = ["D" if slot.demand_window else ""] if demand else []
        table.add_row(
            slot.label,
            *starts,
            _cents(slot.buy),
            _cents(slot.sell),
            f"{_mark(slot.general)}/{_mark(slot.feed_in)}",
            Text(spike, style="bold red" if spike == "SPIKE" else "yellow"),
            *window,
            *notes,
        )
    return table


def with_demand_marks(lines: list[str], flags: Sequence[bool]) -> list[str]:
    """A chart's lines with a row above its x axis marking the slots in the demand window."""
    if not any(flags):
        return lines
    row = "  demand " + "".join("D" if flag else " " for flag in flags)
    return [*lines[:-1], row.rstrip(), lines[-1]]


def plan_chart(plan: TariffPlan) -> list[str]:
    from amber_tesla_sync.render.chart import chart

    zone = ZoneInfo(plan.timezone)
    hours = [slot.span.start.astimezone(zone).strftime("%H") for slot in plan.slots]
    lines = chart("Buy c/kWh (next 24 h)", [slot.buy * 100 for slot in plan.slots], hours)
    lines = with_demand_marks(lines, [slot.demand_window for slot in plan.slots])
    if plan.has_feed_in:
        lines += chart("Sell c/kWh (next 24 h)", [slot.sell * 100 for slot in plan.slots], hours)
    return lines


def plan_summary(plan: TariffPlan) -> str:
    zone = ZoneInfo(plan.timezone)
    slots = plan.slots
    cheapest = min(slots, key=lambda s: (s.buy, s.span.start))
    dearest = max(slots, key=lambda s: (s.buy, -s.span.start.timestamp()))
    parts = [
        f"cheapest buy {local_name(cheapest.span.start, zone, False)} "
        f"({_cents(cheapest.buy)} c/kWh)",
        f"dearest buy {local_name(dearest.span.start, zone, False)} ({_cents(dearest.buy)} c/kWh)",
    ]
    if plan.has_feed_in:
        best = max(slots, key=lambda s: (s.sell, -s.span.start.timestamp()))
        parts.append(
            f"best sell {local_name(best.span.start, zone, False)} ({_cents(best.sell)} c/kWh)"
        )
    estimated = sum(slot.estimated for slot in slots)
    filled = sum(
        Source.GAP_FILLED in (slot.general.source, slot.feed_in.source if slot.feed_in else None)
        for slot in slots
    )
    parts.append(f"{estimated} of 48 slots estimated beyond the forecast horizon")
    if filled:
        parts.append(f"{filled} gap{'s' if filled != 1 else ''} filled")
    spikes = sum(slot.spike == "spike" for slot in slots)
    if spikes:
        parts.append(f"{spikes} spike slot{'s' if spikes != 1 else ''}")
    if plan.demand is not None:
        parts.append(demand_line(plan.demand))
    return "Summary: " + " · ".join(parts) + "."


def render_plan(console: Console, plan: TariffPlan) -> None:
    from rich.text import Text

    console.print(plan_table(plan, console.width))
    legend = LEGEND
    if plan.demand is not None and plan.demand.labels:
        legend += " · Dmd: D in the demand window (the tariff charges for demand there)"
    console.print(Text(legend, style="dim"))
    console.print()
    for line in plan_chart(plan):
        console.print(Text(line), no_wrap=True, overflow="crop")
    console.print()
    console.print(plan_summary(plan))


def plan_json(plan: TariffPlan) -> dict[str, Any]:
    """``tariff --json``: the 48 slots (c/kWh) and Tesla's request body, verbatim."""
    return {
        "time_zone": plan.timezone,
        "now": iso(plan.now.astimezone(ZoneInfo(plan.timezone))),
        "options": {
            "forecast_price": plan.options.forecast_price,
            "allow_sell_above_buy": plan.options.allow_sell_above_buy,
            "max_gap_slots": plan.options.max_gap_slots,
            "min_horizon_hours": plan.options.min_horizon_hours,
        },
        "demand": demand_json(plan.demand),
        "slots": [
            {
                "slot": slot.span.label,
                "starts": iso(slot.span.start.astimezone(ZoneInfo(plan.timezone))),
                "ends": iso(slot.span.end.astimezone(ZoneInfo(plan.timezone))),
                "buy": cents(slot.buy),
                "sell": cents(slot.sell),
                "buy_source": str(slot.general.source),
                "sell_source": str(slot.feed_in.source if slot.feed_in else Source.NO_CHANNEL),
                "spike": slot.general.spike,
                "notes": [note for note in _notes(slot).split(", ") if note],
                "demand_window": slot.demand_window,
            }
            for slot in plan.slots
        ],
        "tesla_request": plan.body,
    }

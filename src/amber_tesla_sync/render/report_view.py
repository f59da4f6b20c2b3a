"""How ``report`` shows what the battery earned: a table of days and totals, the working for each
day, a terminal chart per day (price, battery, grid), or a JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from amber_tesla_sync.render.chart import axis_labels, bar_rows, chart
from amber_tesla_sync.render.envelope import iso
from amber_tesla_sync.report.model import DayReport, Money, SiteReport, Slot
from amber_tesla_sync.report.totals import Totals, totals
from amber_tesla_sync.store.override_history import OverrideRecord

COLUMNS = 48  # chart columns per day: half-hours


def _dollars(value: float | None) -> str:
    if value is None:
        return "–"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _price(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} c/kWh"


OVERRIDDEN = "⚑"  # an override of the owner's touched the day


def _mark(day: DayReport) -> str:
    return (" (est.)" if day.estimated else "") + (f" {OVERRIDDEN}" if day.overrides else "")


def _override_line(item: OverrideRecord, zone: ZoneInfo) -> str:
    start, end = item.start.astimezone(zone), (item.ended_at or item.end).astimezone(zone)
    done = "; ".join(item.changes) or "no setting changed"
    return f"override {item.id}: {item.kind} {start:%a %H:%M}–{end:%a %H:%M} ({done})"


def _money_cells(row: DayReport | Totals) -> list[str]:
    """A row's energy and money cells: bought, cost, sold, earnings, net, without the battery,
    the battery's value."""
    return [
        f"{row.bill.bought:.2f} kWh",
        _dollars(row.bill.cost),
        f"{row.bill.sold:.2f} kWh",
        _dollars(row.bill.earnings),
        _dollars(row.net_bill),
        _dollars(row.without_battery.net if row.without_battery else None),
        _dollars(row.battery_value),
    ]


def _table(days: Sequence[DayReport], total: Totals) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for name in ("Day", "Bought", "Cost", "Sold", "Earned", "Net bill", "No battery", "Battery"):
        table.add_column(name, justify="left" if name == "Day" else "right", no_wrap=name == "Day")
    table.add_column("Tool's tariff", justify="right")
    for day in days:
        table.add_row(
            f"{day.day:%a %d %b}{_mark(day)}",
            *_money_cells(day),
            f"{day.share.tool_fraction:.0%}" if day.share else "–",
        )
    table.add_row(
        "Total" + (" (est.)" if total.estimated else ""),
        *_money_cells(total),
        f"{total.tool_fraction:.0%}" if total.tool_fraction is not None else "–",
        style="bold",
    )
    return table


def _working(day: DayReport) -> list[str]:
    lines = [
        f"  bill: bought {day.bill.bought:.2f} kWh for {_dollars(day.bill.cost)}, sold "
        f"{day.bill.sold:.2f} kWh for {_dollars(day.bill.earnings)}"
        + (
            f", controlled load {_dollars(day.controlled_load_cost)}"
            if day.controlled_load_cost
            else ""
        )
        + f": net {_dollars(day.net_bill)}{_mark(day)}"
    ]
    plain, real = day.without_battery, day.with_battery
    if plain is not None and real is not None:
        lines.append(
            f"  without the battery: bought {plain.bought:.2f} kWh for {_dollars(plain.cost)}, "
            f"sold {plain.sold:.2f} kWh for {_dollars(plain.earnings)}: net {_dollars(plain.net)}"
        )
        lines.append(
            f"  with it, by the Powerwall's meter at the same prices: net {_dollars(real.net)} "
            f"→ the battery's value {_dollars(day.battery_value)}"
        )
    lines.append(
        f"  battery: charged {day.charged:.2f} kWh at {_price(day.charge_price)} on average, "
        f"discharged {day.discharged:.2f} kWh at {_price(day.discharge_price)}"
    )
    share = day.share
    if share is not None:
        lines.append(f"  the tool's tariff ran {share.tool_fraction:.0%} of the day")
        lines.append(
            f"    (kept while syncs refused or failed {share.fraction(share.kept):.0%}, another "
            f"tariff {share.fraction(share.foreign):.0%}, no sync yet "
            f"{share.fraction(share.unknown):.0%})"
        )
    rec = day.reconciliation
    if rec is not None:
        lines.append(
            f"  meters: grid import − export {rec.tesla_net:.2f} kWh (Powerwall), "
            f"{rec.amber_net:.2f} kWh (Amber)"
        )
        lines.append(
            f"    they agree within metering noise (±{rec.tolerance:.2f} kWh)"
            if rec.agrees
            else f"    they differ by {rec.difference:+.2f} kWh (more than the metering noise, "
            f"±{rec.tolerance:.2f} kWh)"
        )
    lines.extend(f"  note: {note}" for note in day.notes)
    return lines


def _columns(slots: Sequence[Slot], values: Sequence[float | None]) -> list[float]:
    """Means over half-hour columns (a 5-minute site has 6 slots per column)."""
    per = max(1, len(slots) // COLUMNS) if len(slots) > COLUMNS else 1
    out = []
    for index in range(0, len(values), per):
        chunk = [v for v in values[index : index + per] if v is not None]
        out.append(sum(chunk) / len(chunk) if chunk else 0.0)
    return out


def series(day: DayReport) -> dict[str, list[float | None]]:
    """Per interval: buy price (c/kWh), battery power and grid power (kW, mean over the
    interval; battery > 0 discharging, grid > 0 importing)."""
    price, battery, grid = [], [], []
    for slot in day.slots:
        hours = (slot.end - slot.start).total_seconds() / 3600
        price.append(slot.buy)
        flows = slot.flows
        battery.append(
            (flows.discharge - flows.charge_grid - flows.charge_solar) / hours if flows else None
        )
        grid.append((flows.grid_import - flows.grid_export) / hours if flows else None)
    return {"price": price, "battery": battery, "grid": grid}


def signed_chart(title: str, values: Sequence[float], x_labels: Sequence[str]) -> list[str]:
    """Bars up from a zero line for positive values and down for negative ones (two rows each;
    eighth blocks above, half blocks below), on one scale."""
    top = max([abs(v) for v in values] + [1e-9])
    up = bar_rows([max(v, 0.0) for v in values], 2, 0.0, top)
    up = ["".join(c if v > 0 else " " for c, v in zip(row, values, strict=True)) for row in up]
    down = []
    for row in (1, 2):
        cells = []
        for value in values:
            depth = -value / top * 2 if value < 0 else 0.0
            cells.append("█" if depth >= row else "▀" if depth >= row - 0.5 else " ")
        down.append("".join(cells))
    scale = [f"{top:+7.2f} ┤", "        │", "   0.00 ┼", f"{-top:+7.2f} ┤"]
    lines = [title, scale[0] + up[0], scale[1] + up[1], scale[2] + "─" * len(values)]
    lines += [scale[1] + down[0], scale[3] + down[1]]
    lines.append("         " + axis_labels(x_labels, 4))
    return lines


def day_chart(day: DayReport) -> list[str]:
    data = series(day)
    zone = ZoneInfo(day.zone)
    per = max(1, len(day.slots) // COLUMNS) if len(day.slots) > COLUMNS else 1
    x = [day.slots[i].start.astimezone(zone).strftime("%H") for i in range(0, len(day.slots), per)]
    lines = chart("  Amber buy price, c/kWh", _columns(day.slots, data["price"]), x, height=3)
    for title, key in (
        ("battery, kW (up: discharging, down: charging)", "battery"),
        ("grid, kW (up: importing, down: exporting)", "grid"),
    ):
        lines.extend(signed_chart(f"  {title}", _columns(day.slots, data[key]), x))
    return lines


def render_report(
    console: Console, sites: Sequence[SiteReport], tesla_reads: int, charts: bool = True
) -> None:
    for site in sites:
        total = totals(site.days)
        console.print(Text(f"{site.site} ({site.zone}): what the battery earned", style="bold"))
        console.print(_table(site.days, total))
        for day in site.days:
            console.print()
            console.print(Text(f"{day.day:%A %d %B %Y}{_mark(day)}", style="bold"))
            for line in _working(day):
                console.print(Text(line))
            for item in day.overrides:
                console.print(Text(_override_line(item, ZoneInfo(day.zone))))
            for line in day_chart(day) if charts and day.slots else []:
                console.print(Text(line), no_wrap=True, overflow="crop")
        console.print()
    console.print(
        "Figures marked (est.) are estimates where Amber has no usage record yet. Money in AUD "
        "incl. GST."
    )
    if any(day.overrides for site in sites for day in site.days):
        console.print(f"{OVERRIDDEN} an override of yours (`override`) decided part of the day.")
    console.print(f"Tesla requests: {tesla_reads} read")


# -- JSON ------------------------------------------------------------------------------------


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _money(money: Money | None) -> dict[str, Any] | None:
    if money is None:
        return None
    return {
        "bought_kwh": _r(money.bought),
        "cost": _r(money.cost),
        "sold_kwh": _r(money.sold),
        "earnings": _r(money.earnings),
        "net_bill": _r(money.net),
    }


def _slot_json(slot: Slot, zone: ZoneInfo) -> dict[str, Any]:
    flows = slot.flows
    return {
        "start": iso(slot.start.astimezone(zone)),
        "end": iso(slot.end.astimezone(zone)),
        "buy": _r(slot.buy),
        "sell": _r(slot.sell),
        "bought_kwh": _r(slot.bought),
        "cost": _r(slot.cost),
        "sold_kwh": _r(slot.sold),
        "earnings": _r(slot.earnings),
        "estimated": slot.estimated,
        "unpriced": slot.unpriced,
        "powerwall": None
        if flows is None
        else {
            "solar_kwh": _r(flows.solar),
            "home_kwh": _r(flows.home),
            "grid_import_kwh": _r(flows.grid_import),
            "grid_export_kwh": _r(flows.grid_export),
            "battery_charge_kwh": _r(flows.charge_grid + flows.charge_solar),
            "battery_discharge_kwh": _r(flows.discharge),
        },
    }


def _day_json(day: DayReport) -> dict[str, Any]:
    share, rec = day.share, day.reconciliation
    return {
        "date": day.day.isoformat(),
        "complete": day.complete,
        "estimated": day.estimated,
        "estimated_intervals": day.estimated_intervals,
        "unpriced_intervals": day.unpriced_intervals,
        "powerwall_missing_intervals": day.tesla_missing,
        "bill": _money(day.bill),
        "controlled_load_cost": _r(day.controlled_load_cost),
        "net_bill": _r(day.net_bill),
        "without_battery": _money(day.without_battery),
        "with_battery_by_powerwall_meter": _money(day.with_battery),
        "battery_value": _r(day.battery_value),
        "battery": {
            "charged_kwh": _r(day.charged),
            "discharged_kwh": _r(day.discharged),
            "average_charge_price": _r(day.charge_price),
            "average_discharge_price": _r(day.discharge_price),
        },
        "tariff": None
        if share is None
        else {
            "tool_share": _r(share.tool_fraction),
            "kept_share": _r(share.fraction(share.kept)),
            "foreign_share": _r(share.fraction(share.foreign)),
            "unknown_share": _r(share.fraction(share.unknown)),
        },
        "reconciliation": None
        if rec is None
        else {
            "intervals": rec.intervals,
            "powerwall_net_kwh": _r(rec.tesla_net),
            "amber_net_kwh": _r(rec.amber_net),
            "difference_kwh": _r(rec.difference),
            "tolerance_kwh": _r(rec.tolerance),
            "agrees": rec.agrees,
        },
        "notes": day.notes,
        "overrides": [
            {
                "id": item.id,
                "kind": item.kind,
                "start": iso(item.start),
                "end": iso(item.end),
                "ended_at": iso(item.ended_at),
                "cleared": item.cleared,
                "changes": list(item.changes),
                "tariff_slots": list(item.slots),
            }
            for item in day.overrides
        ],
        "intervals": [_slot_json(slot, ZoneInfo(day.zone)) for slot in day.slots],
    }


def report_fields(
    sites: Sequence[SiteReport], tesla_reads: int, amber_requests: int
) -> dict[str, Any]:
    """The command's fields in the JSON convention (``render.envelope`` adds the header): money
    in AUD incl. GST, energy in kWh, prices in c/kWh, times with the site's offset."""
    out = []
    for site in sites:
        total = totals(site.days)
        out.append(
            {
                "site": site.site,
                "time_zone": site.zone,
                "days": [_day_json(day) for day in site.days],
                "total": {
                    "estimated": total.estimated,
                    "bill": _money(total.bill),
                    "net_bill": _r(total.net_bill),
                    "without_battery": _money(total.without_battery),
                    "battery_value": _r(total.battery_value),
                    "tool_share": _r(total.tool_fraction),
                },
            }
        )
    return {
        "money_unit": "AUD",
        "energy_unit": "kWh",
        "tesla_requests": {"read": tesla_reads, "write": 0},
        "amber_requests": amber_requests,
        "sites": out,
    }

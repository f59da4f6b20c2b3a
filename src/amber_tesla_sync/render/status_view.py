"""How ``status`` shows one site on one screen (or as JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from amber_tesla_sync.render.chart import chart
from amber_tesla_sync.render.envelope import cents, iso
from amber_tesla_sync.status import PriceNow, SiteStatus
from amber_tesla_sync.tesla.siteinfo import SiteInfo


def _kw(watts: Any) -> str:
    return f"{watts / 1000:.1f} kW" if isinstance(watts, int | float) else "?"


def _price(price: PriceNow | None, sell: bool) -> str:
    if price is None:
        return "no data"
    value = -price.per_kwh if sell else price.per_kwh
    parts = [f"{value:.2f} c/kWh"]
    if price.descriptor:
        parts.append(price.descriptor)
    if price.renewables is not None and not sell:
        parts.append(f"{price.renewables:.0f}% renewables")
    if price.spike != "none":
        parts.append(f"spike: {price.spike}")
    if price.estimate is not None:
        parts.append("estimate" if price.estimate else "final")
    return " · ".join(parts)


def _powerwall(status: SiteStatus) -> list[str]:
    if status.tesla_error is not None:
        return [f"unavailable: {status.tesla_error}"]
    live, info = status.live or {}, status.info or {}
    site = SiteInfo(info)
    grid, battery = live.get("grid_power"), live.get("battery_power")
    grid_note = (
        " (importing)"
        if isinstance(grid, int | float) and grid > 50
        else (" (exporting)" if isinstance(grid, int | float) and grid < -50 else "")
    )
    battery_note = (
        " (discharging)"
        if isinstance(battery, int | float) and battery > 50
        else (" (charging)" if isinstance(battery, int | float) and battery < -50 else "")
    )
    soc = live.get("percentage_charged")
    charging = site.components.get("disallow_charge_from_grid_with_solar_installed")
    return [
        (f"{soc:.0f}% charged" if isinstance(soc, int | float) else "charge ?")
        + f" · solar {_kw(live.get('solar_power'))} · home {_kw(live.get('load_power'))}"
        + f" · grid {_kw(grid)}{grid_note} · battery {_kw(battery)}{battery_note}",
        f"mode {site.mode or '?'} · backup reserve "
        f"{info.get('backup_reserve_percent', '?')}% · export rule "
        f"{site.export_rule or '?'} · grid charging "
        + ("?" if charging is None else "blocked" if charging else "allowed"),
    ]


def _last_sync(status: SiteStatus, now: dt.datetime, zone: ZoneInfo | None) -> str:
    run = status.last_run
    if run is None:
        return "never (run `amber-tesla-sync sync`)"
    when = run.started_at.astimezone(zone) if zone else run.started_at
    minutes = (now - run.started_at).total_seconds() / 60
    return f"{when:%a %H:%M} ({minutes:.0f} min ago): {run.outcome} — {run.reason}"


def _tariff_lines(status: SiteStatus, now: dt.datetime, zone: ZoneInfo | None) -> list[str]:
    """Since when the Powerwall runs the last good tariff, and the refusals since then."""
    state = status.sync_state

    def when(moment: dt.datetime) -> str:
        local = moment.astimezone(zone) if zone else moment
        hours = (now - moment).total_seconds() / 3600
        return f"{local:%a %H:%M} ({hours:.1f} h ago)"

    push = state.last_push if state else None
    lines = [
        f"last good tariff {push.fingerprint}, pushed {when(push.pushed_at)}"
        if push
        else "no tariff pushed yet"
    ]
    if state is not None and state.refusing_since and state.last_refusal:
        lines.append(
            f"refusing since {when(state.refusing_since)}: {state.last_refusal.splitlines()[0]}"
        )
    return lines


def render_status(console: Console, status: SiteStatus, now: dt.datetime) -> None:
    zone = ZoneInfo(status.zone) if status.zone else None
    local = now.astimezone(zone) if zone else now
    target = status.target
    console.print(
        Text(
            f"{target.key} — Amber site {target.amber_site_id}, Powerwall {target.energy_site_id}"
            f" — {status.zone or 'time zone unknown'}, {local:%a %d %b %H:%M}",
            style="bold",
        )
    )
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    if status.amber_error is not None:
        grid.add_row("Amber now", f"unavailable: {status.amber_error}")
    else:
        grid.add_row("Amber now", "buy " + _price(status.buy, sell=False))
        grid.add_row("", "sell " + _price(status.sell, sell=True))
    for index, line in enumerate(_powerwall(status)):
        grid.add_row("Powerwall" if index == 0 else "", line)
    grid.add_row("Last sync", _last_sync(status, now, zone))
    for index, line in enumerate(_tariff_lines(status, now, zone)):
        grid.add_row("Tariff" if index == 0 else "", line)
    console.print(grid)
    if status.plan and zone is not None:
        hours = [start.astimezone(zone).strftime("%H") for _, start, _, _ in status.plan]
        for line in chart(
            "Pushed tariff, buy c/kWh (next 24 h)",
            [b * 100 for _, _, b, _ in status.plan],
            hours,
            height=4,
        ):
            console.print(Text(line), no_wrap=True, overflow="crop")
    else:
        console.print("Plan: nothing pushed yet")
    for warning in status.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))


def status_json(status: SiteStatus, now: dt.datetime) -> dict[str, Any]:
    """One site's status for ``status --json`` (prices in c/kWh, sell positive when paid)."""

    def price(p: PriceNow | None, sign: float) -> dict[str, Any] | None:
        if p is None:
            return None
        fields = dict(p.__dict__)
        fields["price"] = sign * fields.pop("per_kwh") + 0.0  # Amber gives c/kWh already
        return fields

    run = status.last_run
    return {
        "site": status.target.key,
        "amber_site_id": status.target.amber_site_id,
        "energy_site_id": status.target.energy_site_id,
        "time_zone": status.zone,
        "now": iso(now),
        "amber": {
            "buy": price(status.buy, 1.0),
            "sell": price(status.sell, -1.0),
            "error": status.amber_error,
        },
        "powerwall": {
            "live_status": status.live,
            "site_info": _brief(status.info),
            "error": status.tesla_error,
        },
        "last_sync": None
        if run is None
        else {
            "at": iso(run.started_at),
            "outcome": run.outcome,
            "pushed": run.pushed,
            "reason": run.reason,
            "error": run.error,
        },
        "tariff": _tariff_json(status),
        "plan": [
            {"slot": label, "starts": iso(start), "buy": cents(buy), "sell": cents(sell)}
            for label, start, buy, sell in status.plan
        ],
        "warnings": status.warnings,
    }


def _tariff_json(status: SiteStatus) -> dict[str, Any]:
    state = status.sync_state
    push = state.last_push if state else None
    refusing = state is not None and state.refusing_since is not None
    return {
        "pushed_at": iso(push.pushed_at) if push else None,
        "fingerprint": push.fingerprint if push else None,
        "refusal": {
            "since": iso(state.refusing_since),
            "last_at": iso(state.last_refusal_at),
            "reason": state.last_refusal,
        }
        if state is not None and refusing and state.refusing_since is not None
        else None,
    }


def _brief(info: dict[str, Any] | None) -> dict[str, Any] | None:
    """site_info without the (long) tariff."""
    if info is None:
        return None
    return {key: value for key, value in info.items() if not key.startswith("tariff_content")}

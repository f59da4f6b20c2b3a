"""How ``status`` shows one site on one screen (or as JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from amber_tesla_sync.render.chart import chart
from amber_tesla_sync.render.envelope import cents, iso
from amber_tesla_sync.render.override_view import override_json, override_lines
from amber_tesla_sync.render.tariff_view import demand_json, demand_line, with_demand_marks
from amber_tesla_sync.status.explain import Drift, Why, Window
from amber_tesla_sync.status.model import PriceNow, SiteStatus
from amber_tesla_sync.support import redact
from amber_tesla_sync.tesla.models import LiveStatus, SiteInfo


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
    live, site = status.live or LiveStatus(), status.info or SiteInfo()
    grid, battery = live.grid_power, live.battery_power
    grid_note = (
        " (importing)"
        if grid is not None and grid > 50
        else (" (exporting)" if grid is not None and grid < -50 else "")
    )
    battery_note = (
        " (discharging)"
        if battery is not None and battery > 50
        else (" (charging)" if battery is not None and battery < -50 else "")
    )
    soc = live.percentage_charged
    charging = site.components.grid_charging_disallowed
    return [
        (f"{soc:.0f}% charged" if soc is not None else "charge ?")
        + f" · solar {_kw(live.solar_power)} · home {_kw(live.load_power)}"
        + f" · grid {_kw(grid)}{grid_note} · battery {_kw(battery)}{battery_note}",
        f"mode {site.mode or '?'} · backup reserve "
        f"{'?' if site.backup_reserve is None else site.backup_reserve}% · export rule "
        f"{site.export_rule or '?'} · grid charging "
        + ("?" if charging is None else "blocked" if charging else "allowed"),
    ]


def _ago(moment: dt.datetime, now: dt.datetime, zone: dt.tzinfo) -> str:
    """``Thu 16:42 (5 min ago)``, in hours from 90 minutes on."""
    when = moment.astimezone(zone)
    minutes = (now - moment).total_seconds() / 60
    ago = f"{minutes / 60:.1f} h" if minutes >= 90 else f"{minutes:.0f} min"
    return f"{when:%a %H:%M} ({ago} ago)"


def _last_sync(status: SiteStatus, now: dt.datetime, zone: dt.tzinfo) -> str:
    run = status.last_run
    if run is None:
        return "never (run `amber-tesla-sync sync`)"
    return f"{_ago(run.started_at, now, zone)}: {run.outcome} — {run.reason}"


def _c(dollars: float) -> str:
    return f"{dollars * 100:.1f} c"


def _hm(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def _span(window: Window, zone: dt.tzinfo) -> str:
    return f"{_hm(window.start, zone)}–{_hm(window.end, zone)}"


def why_line(why: Why, zone: dt.tzinfo) -> str:
    """What the battery does now and why, in terms of the pushed tariff (one line)."""
    cheapest = f"{_span(why.cheapest, zone)} at {_c(why.cheapest.price)}"
    best = f"{_c(why.best_sell.price)} at {_hm(why.best_sell.start, zone)}"
    if why.doing == "charging_grid":
        if why.in_cheapest:
            return (
                f"charging from the grid: {_span(why.cheapest, zone)} is the cheapest window of "
                f"the next 24 h at {_c(why.cheapest.price)}"
            )
        return f"charging from the grid at {_c(why.buy)} now (the cheapest window is {cheapest})"
    if why.doing == "charging_solar":
        tail = "" if why.at_best_sell else f" (its best is {best})"
        return f"charging from solar: the tariff pays only {_c(why.sell)} for exports now{tail}"
    if why.doing == "exporting":
        if why.at_best_sell:
            return f"exporting: sell {_c(why.sell)} now, the day's best"
        return f"exporting: sell {_c(why.sell)} now (the day's best is {best})"
    if why.doing == "discharging":
        tail = "" if why.in_cheapest else f", above the cheapest window ({cheapest})"
        return f"powering the home from the battery: buy {_c(why.buy)} now{tail}"
    if why.cheaper is not None:
        return (
            f"holding: cheaper energy is coming at {_hm(why.cheaper.start, zone)} "
            f"({_c(why.cheaper.price)}, {_c(why.buy)} now)"
        )
    if why.in_cheapest:
        return f"holding: {_c(why.buy)} now is the cheapest of the next 24 h"
    return f"holding: buy {_c(why.buy)} now, sell {_c(why.sell)}"


def drift_line(drift: Drift) -> str:
    """How far the pushed tariff is from Amber's latest prices (one line)."""
    if drift.refused is not None:
        return f"Amber's latest prices cannot be folded ({drift.refused})"
    if drift.label is None or drift.largest_cents < 0.05:
        return "it matches Amber's latest prices"
    return (
        f"it differs from Amber's latest prices by up to {drift.largest_cents:.1f} c/kWh "
        f"({drift.label} {drift.side})"
    )


def _last_ok(status: SiteStatus, now: dt.datetime, zone: dt.tzinfo) -> str:
    run = status.last_ok
    if run is None:
        return "none in the last 30 days"
    return f"{_ago(run.started_at, now, zone)}: {run.outcome}"


def _tariff_lines(status: SiteStatus, now: dt.datetime, zone: dt.tzinfo) -> list[str]:
    """Since when the Powerwall runs the last good tariff, and the refusals since then."""
    state = status.sync_state

    def when(moment: dt.datetime) -> str:
        return _ago(moment, now, zone)

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
    zone = status.shown
    local = now.astimezone(zone)
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
    if status.why is not None:
        grid.add_row("Now", why_line(status.why, zone))
    grid.add_row("Last sync", _last_sync(status, now, zone))
    if status.last_run is not None and status.last_ok is not status.last_run:
        grid.add_row("Last success", _last_ok(status, now, zone))
    tariff = _tariff_lines(status, now, zone)
    if status.drift is not None:
        tariff.append(drift_line(status.drift))
    if status.demand is not None:
        tariff.append(demand_line(status.demand))
    for index, line in enumerate(tariff):
        grid.add_row("Tariff" if index == 0 else "", line)
    manual = status.sync_state.manual if status.sync_state else []
    for index, line in enumerate(
        line.strip() for item in manual for line in override_lines(target.key, item, now, zone)
    ):
        grid.add_row("Overrides" if index == 0 else "", line)
    console.print(grid)
    if status.plan and zone is not None:
        hours = [start.astimezone(zone).strftime("%H") for _, start, _, _ in status.plan]
        lines = chart(
            "Pushed tariff, buy c/kWh (next 24 h)",
            [b * 100 for _, _, b, _ in status.plan],
            hours,
            height=4,
        )
        window = status.demand.labels if status.demand is not None else frozenset()
        for line in with_demand_marks(lines, [label in window for label, *_ in status.plan]):
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

    run, ok, zone = status.last_run, status.last_ok, status.shown
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
            "live_status": _redacted(status.live.raw) if status.live else None,
            "site_info": _brief(status.info.raw if status.info else None),
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
        "last_success": None
        if ok is None
        else {"at": ok.started_at.isoformat(), "outcome": ok.outcome},
        "now_doing": None
        if status.why is None
        else {"doing": status.why.doing, "explanation": why_line(status.why, zone)},
        "tariff_drift": None
        if status.drift is None
        else {
            "pushed_at": status.drift.pushed_at.isoformat(),
            "age_minutes": round(status.drift.age.total_seconds() / 60, 1),
            "largest_difference_cents": status.drift.largest_cents,
            "slot": status.drift.label,
            "side": status.drift.side,
            "refused": status.drift.refused,
            "explanation": drift_line(status.drift),
        },
        "powerwall_findings": [
            {"setting": f.key, "problem": f.problem, "fix": f.fix} for f in status.findings
        ],
        "plan": [
            {
                "slot": label,
                "starts": iso(start),
                "buy": cents(buy),
                "sell": cents(sell),
                "demand_window": status.demand is not None and label in status.demand.labels,
            }
            for label, start, buy, sell in status.plan
        ],
        "demand": demand_json(status.demand),
        "overrides": [
            override_json(status.target.key, item, now)
            for item in (status.sync_state.manual if status.sync_state else [])
        ],
        "warnings": status.warnings,
    }


def _tariff_json(status: SiteStatus) -> dict[str, Any]:
    state = status.sync_state
    push = state.last_push if state else None
    return {
        "pushed_at": iso(push.pushed_at) if push else None,
        "fingerprint": push.fingerprint if push else None,
        "refusal": {
            "since": iso(state.refusing_since),
            "last_at": iso(state.last_refusal_at),
            "reason": state.last_refusal,
        }
        if state is not None and state.refusing_since is not None
        else None,
    }


def _brief(info: dict[str, Any] | None) -> dict[str, Any] | None:
    """site_info without the (long) tariff."""
    if info is None:
        return None
    return {
        key: _redacted(value) for key, value in info.items() if not key.startswith("tariff_content")
    }


def _redacted(value: Any) -> Any:
    """Tesla's words as the tool shows them: every secret it holds redacted, control characters
    removed (a site name that holds a token shows ``[redacted]``)."""
    if isinstance(value, str):
        return redact.clean(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value

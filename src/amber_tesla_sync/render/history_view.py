"""How ``history`` shows recent runs and the prices seen."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from amber_tesla_sync.render.chart import chart
from amber_tesla_sync.render.envelope import iso
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.state import load_state
from amber_tesla_sync.sync.targets import Target

CHART_WIDTH = 72


def _zone(target: Target) -> ZoneInfo:
    if target.timezone:
        return ZoneInfo(target.timezone)
    cached = load_state().energy_sites.get(str(target.energy_site_id))
    return ZoneInfo(cached.time_zone) if cached and cached.time_zone else ZoneInfo("UTC")


def _bucketed(
    points: list[tuple[dt.datetime, int, str, float]], width: int
) -> list[tuple[dt.datetime, float]]:
    """Mean price per bucket so that the chart fits ``width`` columns."""
    if not points:
        return []
    first, last = points[0][0], points[-1][0]
    span = max((last - first).total_seconds(), 1.0)
    buckets: dict[int, list[float]] = {}
    for start, _, _, price in points:
        index = min(int((start - first).total_seconds() / span * (width - 1)), width - 1)
        buckets.setdefault(index, []).append(price)
    return [
        (first + dt.timedelta(seconds=span * index / (width - 1)), sum(v) / len(v))
        for index, v in sorted(buckets.items())
    ]


def render_history(
    console: Console, store: History, targets: list[Target], since: dt.datetime
) -> None:
    for target in targets:
        zone = _zone(target)
        runs = store.runs(since, target.key)
        console.print(
            Text(
                f"{target.key}: sync runs since {since.astimezone(zone):%a %d %b %H:%M}",
                style="bold",
            )
        )
        table = Table(show_edge=False, pad_edge=False)
        for column in ("When", "Outcome", "Pushed", "Why / error"):
            table.add_column(column)
        for run in runs:
            table.add_row(
                f"{run.started_at.astimezone(zone):%a %H:%M}",
                run.outcome,
                "yes" if run.pushed else "",
                run.error or run.reason,
            )
        console.print(table if runs else Text(f"{target.key}: no sync runs since then"))
        pushes = sum(run.pushed for run in runs)
        bad = sum(run.outcome in ("failed", "refused") for run in runs)
        unverified = sum(run.outcome == "unverified" for run in runs)
        pending = f" ({unverified} not yet read back as sent)" if unverified else ""
        console.print(f"{len(runs)} runs, {pushes} pushes{pending}, {bad} failed or refused")
        points = store.prices(target.amber_site_id, since)
        buckets = _bucketed(points, CHART_WIDTH)
        if buckets:
            labels = [moment.astimezone(zone).strftime("%H") for moment, _ in buckets]
            for line in chart(
                "Amber buy price seen, c/kWh", [price for _, price in buckets], labels, height=4
            ):
                console.print(Text(line), no_wrap=True, overflow="crop")
        console.print()


def history_json(store: History, targets: list[Target], since: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "site": target.key,
            "runs": [
                {
                    "at": iso(run.started_at),
                    "outcome": run.outcome,
                    "pushed": run.pushed,
                    "reason": run.reason,
                    "fingerprint": run.fingerprint,
                    "error": run.error,
                    "exit_code": run.exit_code,
                }
                for run in store.runs(since, target.key)
            ],
            "prices": [
                {"start": iso(start), "minutes": duration, "kind": kind, "buy": price}
                for start, duration, kind, price in store.prices(target.amber_site_id, since)
            ],
        }
        for target in targets
    ]

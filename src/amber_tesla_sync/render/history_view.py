"""How ``history`` shows recent runs and the prices seen: it receives them, and reads nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from amber_tesla_sync.render.chart import chart
from amber_tesla_sync.render.history_export import site_json
from amber_tesla_sync.status.model import PricePoint, SiteHistory

CHART_WIDTH = 72


def _bucketed(points: list[PricePoint], width: int) -> list[tuple[dt.datetime, float]]:
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


def render_history(console: Console, sites: Sequence[SiteHistory], since: dt.datetime) -> None:
    for site in sites:
        zone, runs = site.zone, site.runs
        console.print(
            Text(
                f"{site.key}: sync runs since {since.astimezone(zone):%a %d %b %H:%M}",
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
        console.print(table if runs else Text(f"{site.key}: no sync runs since then"))
        pushes = sum(run.pushed for run in runs)
        bad = sum(run.outcome in ("failed", "refused") for run in runs)
        unverified = sum(run.outcome == "unverified" for run in runs)
        pending = f" ({unverified} not yet read back as sent)" if unverified else ""
        console.print(f"{len(runs)} runs, {pushes} pushes{pending}, {bad} failed or refused")
        buckets = _bucketed(list(site.prices), CHART_WIDTH)
        if buckets:
            labels = [moment.astimezone(zone).strftime("%H") for moment, _ in buckets]
            for line in chart(
                "Amber buy price seen, c/kWh", [price for _, price in buckets], labels, height=4
            ):
                console.print(Text(line), no_wrap=True, overflow="crop")
        console.print()


def history_json(sites: Sequence[SiteHistory]) -> list[dict[str, Any]]:
    """The ``sites`` of ``history --json``: runs and both price channels (see history_export)."""
    return [site_json(site) for site in sites]

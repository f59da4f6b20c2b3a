"""``status`` and ``history``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from amber_tesla_sync.cli.app import app, state
from amber_tesla_sync.history import History
from amber_tesla_sync.render.history_view import history_json, render_history
from amber_tesla_sync.render.status_view import render_status, status_json
from amber_tesla_sync.status import gather
from amber_tesla_sync.sync.targets import targets
from amber_tesla_sync.timeutil import parse_since

SiteOption = Annotated[str | None, typer.Option("--site", help="Only this configured site.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def status(ctx: typer.Context, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Amber's prices now, the Powerwall, the last sync and the plan, on one screen."""
    app_ctx = state(ctx).app()
    now = dt.datetime.now(dt.UTC)
    found = [gather(app_ctx, target, now) for target in targets(app_ctx.config, site)]
    if as_json:
        sys.stdout.write(json.dumps([status_json(s, now) for s in found], indent=2) + "\n")
        return
    console = Console(highlight=False)
    for index, one in enumerate(found):
        if index:
            console.print()
        render_status(console, one, now)


@app.command()
def history(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="How far back: 24h, 7d, 90m or an ISO 8601 time.")
    ] = "24h",
    site: SiteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recent sync runs and the prices seen, with a compact chart."""
    app_ctx = state(ctx).app()
    now = dt.datetime.now(dt.UTC)
    start = parse_since(since, now)
    chosen = targets(app_ctx.config, site)
    store = History()
    if as_json:
        sys.stdout.write(json.dumps(history_json(store, chosen, start), indent=2) + "\n")
        return
    render_history(Console(highlight=False), store, chosen, start)

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
from amber_tesla_sync.timeutil import parse_now, parse_since

SiteOption = Annotated[str | None, typer.Option("--site", help="Only this configured site.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Pretend it is this ISO 8601 time (for the sandbox).", hidden=True),
]


@app.command()
def status(
    ctx: typer.Context, site: SiteOption = None, as_json: JsonOption = False, now: NowOption = None
) -> None:
    """Amber's prices now, the Powerwall, the last sync and the plan, on one screen."""
    app_ctx = state(ctx).app()
    moment = parse_now(now, dt.UTC) if now else dt.datetime.now(dt.UTC)
    found = [gather(app_ctx, target, moment) for target in targets(app_ctx.config, site)]
    if as_json:
        sys.stdout.write(json.dumps([status_json(s, moment) for s in found], indent=2) + "\n")
        return
    console = Console(highlight=False)
    for index, one in enumerate(found):
        if index:
            console.print()
        render_status(console, one, moment)


@app.command()
def history(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="How far back: 24h, 7d, 90m or an ISO 8601 time.")
    ] = "24h",
    site: SiteOption = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Recent sync runs and the prices seen, with a compact chart."""
    app_ctx = state(ctx).app()
    moment = parse_now(now, dt.UTC) if now else dt.datetime.now(dt.UTC)
    start = parse_since(since, moment)
    chosen = targets(app_ctx.config, site)
    store = History()
    if as_json:
        sys.stdout.write(json.dumps(history_json(store, chosen, start), indent=2) + "\n")
        return
    render_history(Console(highlight=False), store, chosen, start)

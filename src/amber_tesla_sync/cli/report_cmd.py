"""``report``: what the battery earned, day by day."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from amber_tesla_sync.cli.app import app, state
from amber_tesla_sync.history import History
from amber_tesla_sync.render.report_view import render_report, report_json
from amber_tesla_sync.report.days import choose_days, parse_date
from amber_tesla_sync.report.gather import Clients, Gatherer
from amber_tesla_sync.sync.targets import targets
from amber_tesla_sync.timeutil import parse_now


@app.command()
def report(
    ctx: typer.Context,
    days: Annotated[
        int | None, typer.Option("--days", help="The last N complete days (default 7).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (YYYY-MM-DD) up to today.")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only this configured site.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    png: Annotated[
        Path | None, typer.Option("--png", help="Also draw the charts to a PNG.")
    ] = None,
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Also draw the charts to an SVG.")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="Pretend it is this ISO 8601 time (for the sandbox).", hidden=True
        ),
    ] = None,
) -> None:
    """What the battery earned, day by day: Amber's bill, the same day without the battery, and
    how much of the day the Powerwall ran this tool's tariff."""
    start = parse_date(since) if since is not None else None
    moment = parse_now(now, dt.UTC) if now else dt.datetime.now(dt.UTC)
    # bad options fail before anything is fetched (the latest "today" any site can have)
    choose_days(days, start, (moment + dt.timedelta(hours=14)).date())
    app_ctx = state(ctx).app()
    clients = Clients(app_ctx.amber, app_ctx.tesla)
    gatherer = Gatherer(clients, History(), moment)
    try:
        found = [
            gatherer.site(target, lambda today: choose_days(days, start, today))
            for target in targets(app_ctx.config, site)
        ]
    finally:
        clients.close()
    for path in (png, svg):
        if path is not None:
            from amber_tesla_sync.render.report_image import write_image

            write_image(found, path)
    if as_json:
        document = report_json(found, clients.tesla_reads, clients.amber_requests, moment)
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    render_report(Console(highlight=False), found, clients.tesla_reads)

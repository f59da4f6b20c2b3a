"""``sync``: one pass for every configured site."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer

from amber_tesla_sync.cli.app import app, state
from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.notify.watch import watched_sync
from amber_tesla_sync.render.sync_view import sync_lines, sync_summary
from amber_tesla_sync.sync.run import SyncOptions, fleet_fallback, worst
from amber_tesla_sync.timeutil import parse_now


@app.command()
def sync(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Push even if nothing changed.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything except writes; print the plan.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary.")
    ] = False,
    site: Annotated[
        str | None, typer.Option("--site", help="Sync only this configured site.")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="Pretend it is this ISO 8601 time (for the sandbox).", hidden=True
        ),
    ] = None,
) -> None:
    """Fetch Amber prices, fold them into a tariff and push it to the Powerwall if it changed."""
    app_ctx = state(ctx).app()
    moment = parse_now(now, dt.UTC) if now else dt.datetime.now(dt.UTC)
    options = SyncOptions(force=force, dry_run=dry_run)
    outcomes, tesla = watched_sync(app_ctx, site, moment, options)
    code = worst(outcomes)
    requests = dict(tesla.connection.requests) if tesla is not None else {}
    fallback = fleet_fallback(tesla)
    if as_json:
        summary = sync_summary(outcomes, requests, code, fallback)
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        for line in sync_lines(outcomes, requests, dry_run, fallback):
            typer.echo(line)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))

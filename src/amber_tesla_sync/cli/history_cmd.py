"""``history``: the recent runs and prices on screen, or exported as JSON, CSV or NDJSON."""

import sys
from typing import Annotated

import typer

from amber_tesla_sync.cli.app import (
    JsonOption,
    NowOption,
    SiteOption,
    app,
    completes,
    examples,
    state,
)

FORMATS = ("table", "json", "csv", "ndjson")
RECORDS = ("prices", "runs")


@app.command(
    epilog=examples(
        "amber-tesla-sync history --since 7d",
        "amber-tesla-sync history --since 2026-01-15T00:00 --json",
        "amber-tesla-sync history --since 30d --format csv > prices.csv",
        "amber-tesla-sync history --since 30d --format ndjson --records runs",
    )
)
def history(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(
            "--since",
            metavar="WHEN",
            help="How far back: 24h, 7d, 90m or an ISO 8601 time (no offset: the site's time).",
        ),
    ] = "24h",
    site: SiteOption = None,
    output: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="table (a screen), json (one document), csv or ndjson (one record a line).",
            autocompletion=completes(*FORMATS),
        ),
    ] = "table",
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            metavar="WHAT",
            help="With csv or ndjson: prices (both channels, the default) or runs.",
            autocompletion=completes(*RECORDS),
        ),
    ] = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Recent sync runs and the prices seen (buy and sell), with a compact chart; or all of
    them since a time as JSON, CSV or NDJSON."""
    from amber_tesla_sync.errors import UsageError
    from amber_tesla_sync.status.history import SHOWN_RUNS, site_histories
    from amber_tesla_sync.store.history import History
    from amber_tesla_sync.store.state import load_state
    from amber_tesla_sync.support.times import parse_since
    from amber_tesla_sync.sync.targets import targets

    if output not in FORMATS:
        raise UsageError(f"no format {output!r}", "choose table, json, csv or ndjson")
    if as_json and output not in ("table", "json"):
        raise UsageError("--json and --format both choose the output", "give only one")
    output = "json" if as_json else output
    if records is not None and (records not in RECORDS or output not in ("csv", "ndjson")):
        raise UsageError(
            f"--records {records} does not fit --format {output}",
            "--records takes prices or runs, with --format csv or ndjson",
        )
    run = state(ctx)
    zone = run.zone(site)
    moment = run.now(now, zone=zone)
    start = parse_since(since, moment, zone)
    chosen = targets(run.app().config, site)
    limit = SHOWN_RUNS if output == "table" else None  # an export has every run since then
    sites = site_histories(History(), load_state(), chosen, start, limit=limit)
    if output == "json":
        from amber_tesla_sync.render.envelope import emit
        from amber_tesla_sync.render.history_view import history_json

        emit("history", {"since": start.isoformat(), "sites": history_json(sites)}, moment)
    elif output == "csv":
        from amber_tesla_sync.render.history_export import write_csv

        write_csv(sys.stdout, sites, records or "prices")
    elif output == "ndjson":
        from amber_tesla_sync.render.history_export import write_ndjson

        write_ndjson(sys.stdout, sites, records or "prices")
    else:
        from rich.console import Console

        from amber_tesla_sync.render.history_view import render_history

        render_history(Console(highlight=False), sites, start)

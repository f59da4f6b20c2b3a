"""``report``: what the battery earned, day by day."""

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from amber_tesla_sync.cli.app import JsonOption, NowOption, SiteOption, app, examples, state


@app.command(
    epilog=examples(
        "amber-tesla-sync report",
        "amber-tesla-sync report --days 30 --png report.png",
        "amber-tesla-sync report --since 2026-01-01 --json",
    )
)
def report(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option("--days", metavar="N", help="The last N complete days (default 7)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="From this date (YYYY-MM-DD) up to today."),
    ] = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    png: Annotated[
        Path | None,
        typer.Option(
            "--png", metavar="FILE", help="Also draw the charts to a PNG (needs [charts])."
        ),
    ] = None,
    svg: Annotated[
        Path | None,
        typer.Option(
            "--svg", metavar="FILE", help="Also draw the charts to an SVG (needs [charts])."
        ),
    ] = None,
    now: NowOption = None,
) -> None:
    """What the battery earned, day by day: Amber's bill, the same day without the battery, and
    how much of the day the Powerwall ran this tool's tariff."""
    from amber_tesla_sync.cli.progress import progress
    from amber_tesla_sync.report.days import choose_days, parse_date
    from amber_tesla_sync.report.gather import Clients, Gatherer
    from amber_tesla_sync.store.history import History
    from amber_tesla_sync.sync.targets import targets

    start = parse_date(since) if since is not None else None
    run = state(ctx)
    app_ctx = run.app()
    moment = run.now(now, site)
    # bad options fail before anything is fetched (the latest "today" any site can have)
    choose_days(days, start, (moment + dt.timedelta(hours=14)).date())
    clients = Clients(app_ctx.amber, app_ctx.tesla)
    gatherer = Gatherer(clients, History(), moment)
    try:
        with progress("report"):  # up to a Tesla read a day: the terminal shows which
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
        from amber_tesla_sync.render.envelope import emit
        from amber_tesla_sync.render.report_view import report_fields

        emit("report", report_fields(found, clients.tesla_reads, clients.amber_requests), moment)
        return
    from rich.console import Console

    from amber_tesla_sync.render.report_view import render_report

    render_report(Console(highlight=False), found, clients.tesla_reads)

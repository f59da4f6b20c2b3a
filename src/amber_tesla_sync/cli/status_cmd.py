"""``status`` and ``history``."""

from typing import Annotated

import typer

from amber_tesla_sync.cli.app import JsonOption, NowOption, SiteOption, app, examples, state


@app.command(epilog=examples("amber-tesla-sync status", "amber-tesla-sync status --json"))
def status(
    ctx: typer.Context, site: SiteOption = None, as_json: JsonOption = False, now: NowOption = None
) -> None:
    """Amber's prices now, the Powerwall, the last sync and the plan, on one screen."""
    from amber_tesla_sync.render.status_view import render_status, status_json
    from amber_tesla_sync.status.gather import gather
    from amber_tesla_sync.sync.targets import targets

    run = state(ctx)
    app_ctx = run.app()
    moment = run.now(now, site)
    found = [gather(app_ctx, target, moment) for target in targets(app_ctx.config, site)]
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        emit("status", {"sites": [status_json(s, moment) for s in found]}, moment)
        return
    from rich.console import Console

    console = Console(highlight=False)
    for index, one in enumerate(found):
        if index:
            console.print()
        render_status(console, one, moment)


@app.command(
    epilog=examples(
        "amber-tesla-sync history --since 7d",
        "amber-tesla-sync history --since 2026-01-15T00:00 --json",
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
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Recent sync runs and the prices seen, with a compact chart."""
    from amber_tesla_sync.render.history_view import history_json, render_history
    from amber_tesla_sync.status.history import site_histories
    from amber_tesla_sync.store.history import History
    from amber_tesla_sync.store.state import load_state
    from amber_tesla_sync.support.times import parse_since
    from amber_tesla_sync.sync.targets import targets

    run = state(ctx)
    zone = run.zone(site)
    moment = run.now(now, zone=zone)
    start = parse_since(since, moment, zone)
    sites = site_histories(History(), load_state(), targets(run.app().config, site), start)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        emit("history", {"since": start.isoformat(), "sites": history_json(sites)}, moment)
        return
    from rich.console import Console

    render_history(Console(highlight=False), sites, start)

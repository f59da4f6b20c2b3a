"""``status``."""

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

"""``sync``: one pass for every configured site."""

import sys
from typing import Annotated

import typer

from amber_tesla_sync.cli.app import NowOption, app, examples, state


@app.command(
    epilog=examples(
        "amber-tesla-sync sync",
        "amber-tesla-sync sync --dry-run -v",
        "amber-tesla-sync -q sync          # from cron: silent unless something is wrong",
    )
)
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
        str | None,
        typer.Option("--site", metavar="NAME", help="Sync only this configured site."),
    ] = None,
    now: NowOption = None,
) -> None:
    """Fetch Amber prices, fold them into a tariff and push it to the Powerwall if it changed."""
    from amber_tesla_sync.cli.progress import progress
    from amber_tesla_sync.errors import ExitCode
    from amber_tesla_sync.render.sync_view import sync_lines, sync_summary
    from amber_tesla_sync.support.bounds import run_deadline
    from amber_tesla_sync.sync.outcome import SyncOptions, fleet_fallback, worst
    from amber_tesla_sync.sync.watched import watched_sync

    run = state(ctx)
    app_ctx = run.app()
    moment = run.now(now, site)
    with progress("sync"), run_deadline():  # the timer's next run never finds this one
        outcomes, tesla = watched_sync(
            app_ctx, site, moment, SyncOptions(force=force, dry_run=dry_run)
        )
    code = worst(outcomes)
    requests = dict(tesla.connection.requests) if tesla is not None else {}
    fallback = fleet_fallback(tesla)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        emit("sync", sync_summary(outcomes, requests, code, fallback), moment)
    else:
        lines = sync_lines(outcomes, requests, dry_run, fallback)
        if run.quiet and code != ExitCode.OK:  # -q: what went wrong still shows, on stderr
            sys.stderr.write("".join(f"{line}\n" for line in lines))
        for line in lines:
            typer.echo(line)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))

"""``override charge|export|hold|pause|list|clear``: the owner takes the wheel for a while."""

from typing import TYPE_CHECKING, Annotated

import typer

from amber_tesla_sync.cli.app import JsonOption, NowOption, SiteOption, app, examples, state

if TYPE_CHECKING:
    from amber_tesla_sync.store.overrides import Kind

override_app = typer.Typer(
    help="Take the wheel for a while: charge, export, hold or pause; it undoes itself.",
    no_args_is_help=True,
)
app.add_typer(override_app, name="override")

ForOption = Annotated[
    str | None, typer.Option("--for", metavar="DURATION", help="How long: 90m, 2h, 1h30m.")
]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", metavar="TIME", help="Until HH:MM (site time) or an ISO date-time."),
]


def _start(
    ctx: typer.Context,
    kind: "Kind",
    for_: str | None,
    until: str | None,
    percent: float | None,
    site: str | None,
    as_json: bool,
    now: str | None,
) -> None:
    from amber_tesla_sync.errors import ExitCode, UsageError
    from amber_tesla_sync.render.override_view import override_json, started_lines
    from amber_tesla_sync.render.sync_view import sync_lines, sync_summary
    from amber_tesla_sync.sync import override_run, overrides
    from amber_tesla_sync.sync.outcome import worst
    from amber_tesla_sync.sync.targets import targets

    run = state(ctx)
    app_ctx = run.app()
    chosen = targets(app_ctx.config, site)
    if len(chosen) > 1:
        raise UsageError("several sites are configured", "say which: --site NAME")
    target, zone, moment = chosen[0], run.zone(site), run.now(now, site)
    start, end = overrides.window(moment, for_, until, zone)
    if kind == "hold" and percent is None:
        percent = overrides.floor_of(override_run.current_charge(app_ctx, target))
    if percent is not None:
        percent = overrides.checked_percent(kind, percent)
    request = override_run.Request(kind, start, end, percent)
    started = override_run.start(app_ctx, target, request, zone, moment)
    code = worst([started.outcome])
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        fields = {
            "started": started.kept,
            "override": override_json(target.key, started.override, moment),
            **sync_summary([started.outcome], started.requests, code),
        }
        emit("override", fields, moment)
    else:
        for line in started_lines(target.key, started.override, started.kept, zone):
            typer.echo(line)
        for line in sync_lines([started.outcome], started.requests, False):
            typer.echo(line)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


@override_app.command(
    epilog=examples(
        "amber-tesla-sync override charge --for 2h",
        "amber-tesla-sync override charge --until 06:00 --target 80",
    )
)
def charge(
    ctx: typer.Context,
    for_: ForOption = None,
    until: UntilOption = None,
    target: Annotated[
        float, typer.Option("--target", metavar="PERCENT", help="Charge to this (0-80 or 100).")
    ] = 100,
    site: SiteOption = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Charge from the grid: buy price 0 in the window, the backup reserve at the target."""
    _start(ctx, "charge", for_, until, target, site, as_json, now)


@override_app.command(epilog=examples("amber-tesla-sync override export --for 1h"))
def export(
    ctx: typer.Context,
    for_: ForOption = None,
    until: UntilOption = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Export from the battery: sell price above every buy price, export rule battery_ok."""
    _start(ctx, "export", for_, until, None, site, as_json, now)


@override_app.command(epilog=examples("amber-tesla-sync override hold --until 21:00"))
def hold(
    ctx: typer.Context,
    for_: ForOption = None,
    until: UntilOption = None,
    floor: Annotated[
        float | None,
        typer.Option("--floor", metavar="PERCENT", help="Keep at least this (default: now)."),
    ] = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Keep the charge: the backup reserve at the floor; the tariff as the prices make it."""
    _start(ctx, "hold", for_, until, floor, site, as_json, now)


@override_app.command(epilog=examples("amber-tesla-sync override pause --for 3h"))
def pause(
    ctx: typer.Context,
    for_: ForOption = None,
    until: UntilOption = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Write nothing to the Powerwall until the end (no push, no settings, no restores)."""
    _start(ctx, "pause", for_, until, None, site, as_json, now)


@override_app.command("list")
def list_(
    ctx: typer.Context, site: SiteOption = None, as_json: JsonOption = False, now: NowOption = None
) -> None:
    """The overrides in force (and ended lately): until when, what they changed."""
    from amber_tesla_sync.render.override_view import listing_lines, override_json
    from amber_tesla_sync.store.state import load_state
    from amber_tesla_sync.sync.override_run import listed
    from amber_tesla_sync.sync.targets import targets

    run = state(ctx)
    moment = run.now(now, site)
    found = listed(load_state(), targets(run.app().config, site))
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        rows = [override_json(key, item, moment) for key, item in found]
        emit("override list", {"overrides": rows}, moment)
        return
    for line in listing_lines(found, moment, run.zone(site)):
        typer.echo(line)


@override_app.command(
    epilog=examples("amber-tesla-sync override clear 3", "amber-tesla-sync override clear --all")
)
def clear(
    ctx: typer.Context,
    ident: Annotated[
        str | None,
        typer.Argument(
            metavar="ID", help="The override (see `override list`).", show_default=False
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every override.")] = False,
    site: SiteOption = None,
    as_json: JsonOption = False,
    now: NowOption = None,
) -> None:
    """End an override now: the owner's settings restored, the normal tariff pushed."""
    from amber_tesla_sync.errors import ExitCode, UsageError
    from amber_tesla_sync.render.sync_view import sync_lines, sync_summary
    from amber_tesla_sync.sync.outcome import worst
    from amber_tesla_sync.sync.override_run import clear as end
    from amber_tesla_sync.sync.targets import targets

    if (ident is None) == (not every):
        raise UsageError(
            "say which override: an ID or --all", "see `amber-tesla-sync override list`"
        )
    run = state(ctx)
    moment = run.now(now, site)
    cleared, outcomes, requests = end(run.app(), targets(run.app().config, site), ident, moment)
    code = worst(outcomes)
    if as_json:
        from amber_tesla_sync.render.envelope import emit

        fields = {
            "cleared": [item.id for item in cleared],
            **sync_summary(outcomes, requests, code),
        }
        emit("override clear", fields, moment)
    else:
        typer.echo("cleared: " + ", ".join(item.id for item in cleared))
        for line in sync_lines(outcomes, requests, False):
            typer.echo(line)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))

"""The command line: parse options, call one function, render. No business rules here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from amber_tesla_sync import __version__
from amber_tesla_sync.amber.models import load_intervals_file
from amber_tesla_sync.config import (
    CONFIG_ENV,
    LoadedConfig,
    effective_toml,
    known_keys,
    load_config,
    resolve_config_path,
    set_value,
    unset_value,
)
from amber_tesla_sync.errors import AppError, ExitCode, RefusedError, UsageError
from amber_tesla_sync.preview import plan_tariff
from amber_tesla_sync.render.tariff_view import refusal_message, render_plan
from amber_tesla_sync.tariff import FoldOptions, Refusal
from amber_tesla_sync.tariff.model import ForecastPrice
from amber_tesla_sync.timeutil import parse_now, parse_zone

PROG = "amber-tesla-sync"
log = logging.getLogger("amber_tesla_sync")

app = typer.Typer(
    name=PROG,
    help="Write Amber Electric's dynamic prices into a Tesla Powerwall as a time-of-use tariff.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show or change the settings file.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@dataclass
class State:
    """What the global options decided, shared with every command."""

    config_path: Path
    verbose: int
    _loaded: LoadedConfig | None = field(default=None, repr=False)

    def config(self) -> LoadedConfig:
        if self._loaded is None:
            self._loaded = load_config(self.config_path)
        return self._loaded


def _state(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    assert isinstance(state, State)
    return state


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar=CONFIG_ENV,
            help="Settings file (default: the platform's config directory).",
            show_envvar=True,
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="Log decisions (-vv: debug).")
    ] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    ctx.obj = State(config_path=resolve_config_path(config), verbose=verbose)


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False)


@app.command()
def tariff(
    ctx: typer.Context,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="A saved Amber /prices/current response body (JSON array) instead of live prices.",
            dir_okay=False,
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="The site's IANA time zone, e.g. Australia/Sydney."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Fold as if it were this ISO 8601 time (default: now)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print exactly the request body sync would POST.")
    ] = False,
    forecast_price: Annotated[
        str | None,
        typer.Option(
            "--forecast-price",
            help="Forecast price to use: predicted, low, high or per_kwh (default from config).",
        ),
    ] = None,
    max_gap_slots: Annotated[
        int | None, typer.Option("--max-gap-slots", min=0, max=48, help="Gap slots to fill.")
    ] = None,
    allow_sell_above_buy: Annotated[
        bool | None,
        typer.Option("--allow-sell-above-buy/--cap-sell-at-buy", help="Override the sell cap."),
    ] = None,
) -> None:
    """Preview the tariff that would be pushed: 48 slots, where each price came from, a chart."""
    settings = _state(ctx).config().config
    zone_name = timezone or settings.site.timezone
    if prices is None:
        raise UsageError(
            "live prices are not available yet in this version",
            "pass a saved Amber response with --prices FILE (and --timezone)",
        )
    if zone_name is None:
        raise UsageError(
            "no time zone for the site",
            "pass --timezone (e.g. Australia/Sydney) or set it with "
            "`amber-tesla-sync config set site.timezone Australia/Sydney`",
        )
    zone = parse_zone(zone_name)
    moment = parse_now(now, zone) if now else _clock_now()
    chosen_price = forecast_price or settings.amber.forecast_price
    if chosen_price not in ("predicted", "low", "high", "per_kwh"):
        raise UsageError(
            f"--forecast-price {chosen_price!r} is not one of predicted, low, high, per_kwh",
            "pick one of those",
        )
    options = FoldOptions(
        forecast_price=_forecast(chosen_price),
        allow_sell_above_buy=(
            settings.tariff.allow_sell_above_buy
            if allow_sell_above_buy is None
            else allow_sell_above_buy
        ),
        max_gap_slots=settings.tariff.max_gap_slots if max_gap_slots is None else max_gap_slots,
    )
    result = plan_tariff(load_intervals_file(prices), zone, moment, options)
    if isinstance(result, Refusal):
        raise RefusedError(
            refusal_message(result),
            "check the price data (a saved file may be cut short or stale); "
            "up to tariff.max_gap_slots missing slots per channel are filled from a neighbour",
        )
    if as_json:
        sys.stdout.write(json.dumps(result.body, indent=2) + "\n")
    else:
        render_plan(_stdout(), result)


def _forecast(value: str) -> ForecastPrice:
    for option in ("predicted", "low", "high", "per_kwh"):
        if value == option:
            return option
    raise AssertionError(value)


def _clock_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print where the settings file is (and whether it exists)."""
    loaded_path = _state(ctx).config_path
    typer.echo(str(loaded_path))
    if not loaded_path.exists():
        typer.echo("(the file does not exist yet: every setting has its default)", err=True)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings (defaults filled in) as TOML."""
    loaded = _state(ctx).config()
    origin = str(loaded.path) if loaded.exists else f"{loaded.path} (not created yet: defaults)"
    typer.echo(f"# {origin}")
    typer.echo(effective_toml(loaded.config), nl=False)


@config_app.command("set")
def config_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. tariff.max_gap_slots.")],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Set one setting (validated before the file is saved)."""
    loaded = _state(ctx).config()
    set_value(loaded, key, value)
    typer.echo(f"{key} set in {loaded.path}")


@config_app.command("unset")
def config_unset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. tariff.max_gap_slots.")],
) -> None:
    """Remove one setting from the file so its default applies."""
    loaded = _state(ctx).config()
    unset_value(loaded, key)
    typer.echo(f"{key} removed from {loaded.path}")


@config_app.command("keys")
def config_keys() -> None:
    """List every setting's key."""
    for key in known_keys():
        typer.echo(key)


def _report(error: AppError) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"{PROG}: error: {error.message}", markup=False)
    if error.hint:
        err.print(f"  what to do: {error.hint}", markup=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a message and an exit code.

    Usage errors are Typer's own (exit code 2); success and ``typer.Exit`` end in ``SystemExit``.
    """
    try:
        app(args=argv, prog_name=PROG)
    except AppError as error:
        _report(error)
        sys.exit(int(error.exit_code))
    except Exception as error:  # a bug: say so plainly, details with -v
        arguments = sys.argv[1:] if argv is None else argv
        if any(arg in ("-v", "-vv", "--verbose") for arg in arguments):
            traceback.print_exc()
        _report(
            AppError(
                f"unexpected internal error: {type(error).__name__}: {error}",
                "this is a bug; run again with -v for details and report it",
            )
        )
        sys.exit(int(ExitCode.INTERNAL))

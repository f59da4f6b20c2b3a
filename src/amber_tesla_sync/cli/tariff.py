"""``tariff``: preview the tariff that would be pushed."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from amber_tesla_sync.amber.models import load_intervals_file
from amber_tesla_sync.cli.app import app, state
from amber_tesla_sync.errors import RefusedError, UsageError
from amber_tesla_sync.preview import live_prices, plan_tariff
from amber_tesla_sync.render.tariff_view import render_plan
from amber_tesla_sync.sitedata import fold_options
from amber_tesla_sync.tariff import Refusal
from amber_tesla_sync.tariff.model import ForecastPrice
from amber_tesla_sync.timeutil import parse_now, parse_zone


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False)


@app.command()
def tariff(
    ctx: typer.Context,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="A saved Amber /prices/current body (JSON array); default: live from Amber.",
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
    min_horizon_hours: Annotated[
        float | None,
        typer.Option(
            "--min-horizon-hours",
            min=0,
            max=24,
            help="Hours ahead each channel's own data must reach (default from config: 12).",
        ),
    ] = None,
    allow_sell_above_buy: Annotated[
        bool | None,
        typer.Option("--allow-sell-above-buy/--cap-sell-at-buy", help="Override the sell cap."),
    ] = None,
) -> None:
    """Preview the tariff that would be pushed: 48 slots, where each price came from, a chart."""
    app_ctx = state(ctx).app()
    settings = app_ctx.config
    if prices is not None:
        zone_name = timezone or settings.site.timezone
        if zone_name is None:
            raise UsageError(
                "no time zone for the site",
                "pass --timezone (e.g. Australia/Sydney) or set it with "
                "`amber-tesla-sync config set site.timezone Australia/Sydney`",
            )
        zone = parse_zone(zone_name)
        intervals = load_intervals_file(prices)
        channels: frozenset[str] = frozenset()
    else:
        intervals, zone, channels = live_prices(
            app_ctx, parse_zone(timezone).key if timezone else None
        )
    moment = parse_now(now, zone) if now else _clock_now()
    chosen_price = forecast_price or settings.amber.forecast_price
    if chosen_price not in ("predicted", "low", "high", "per_kwh"):
        raise UsageError(
            f"--forecast-price {chosen_price!r} is not one of predicted, low, high, per_kwh",
            "pick one of those",
        )
    options = fold_options(
        settings,
        channels,
        forecast_price=_forecast(chosen_price),
        allow_sell_above_buy=allow_sell_above_buy,
        max_gap_slots=max_gap_slots,
        min_horizon_hours=min_horizon_hours,
    )
    result = plan_tariff(intervals, zone, moment, options)
    if isinstance(result, Refusal):
        raise RefusedError(
            result.message,
            "check the price data (a saved file may be cut short or stale: pass --now with the "
            "time it was fetched); "
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

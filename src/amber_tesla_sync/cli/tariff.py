"""``tariff``: preview the tariff that would be pushed."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from amber_tesla_sync.cli.app import SiteOption, app, completes, examples, state

if TYPE_CHECKING:
    from amber_tesla_sync.tariff.model import ForecastPrice

FORECAST_PRICES = ("predicted", "low", "high", "per_kwh")


@app.command(
    epilog=examples(
        "amber-tesla-sync tariff                    # live, for the configured site",
        "amber-tesla-sync tariff --sample           # offline, on the shipped sample prices",
        "amber-tesla-sync tariff --prices saved.json --timezone Australia/Adelaide --json",
    )
)
def tariff(
    ctx: typer.Context,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            metavar="FILE",
            help="A saved Amber /prices/current body (JSON array); default: live from Amber.",
            dir_okay=False,
        ),
    ] = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample",
            help="Use the sample prices shipped with the tool (a 5-minute site in Sydney).",
        ),
    ] = False,
    site: SiteOption = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", metavar="TZ", help="The site's IANA time zone, e.g. Australia/Sydney."
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="WHEN",
            help="Fold as if it were this ISO 8601 time (no offset: the site's time).",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print JSON: the slots and the exact body sync would POST."),
    ] = False,
    forecast_price: Annotated[
        str | None,
        typer.Option(
            "--forecast-price",
            metavar="KIND",
            help="Forecast price to use: predicted, low, high or per_kwh (default from config).",
            autocompletion=completes(*FORECAST_PRICES),
        ),
    ] = None,
    max_gap_slots: Annotated[
        int | None,
        typer.Option("--max-gap-slots", min=0, max=48, metavar="N", help="Gap slots to fill."),
    ] = None,
    allow_sell_above_buy: Annotated[
        bool | None,
        typer.Option(
            "--allow-sell-above-buy/--cap-sell-at-buy",
            show_default=False,
            help="Override the sell cap.",
        ),
    ] = None,
    min_horizon_hours: Annotated[
        float | None,
        typer.Option(
            "--min-horizon-hours",
            min=0,
            max=24,
            metavar="HOURS",
            help="Hours ahead each channel's data must reach (default: tariff.min_horizon_hours).",
        ),
    ] = None,
) -> None:
    """Preview the tariff that would be pushed: 48 slots, where each price came from, a chart."""
    from amber_tesla_sync.amber.models import load_intervals_file
    from amber_tesla_sync.errors import RefusedError, UsageError
    from amber_tesla_sync.render.tariff_view import plan_json, render_plan
    from amber_tesla_sync.support.times import parse_zone
    from amber_tesla_sync.sync.fold_settings import fold_options
    from amber_tesla_sync.sync.preview import plan_tariff
    from amber_tesla_sync.sync.targets import configured_zone
    from amber_tesla_sync.tariff import Refusal

    run = state(ctx)
    settings = run.config().config  # offline, nothing else: no secret store, no clients
    if sample:
        if prices is not None:
            raise UsageError("--sample and --prices both name the prices", "give only one")
        from amber_tesla_sync.settings import resources

        prices = resources.shipped_file(resources.SAMPLE_PRICES)
        timezone = timezone or resources.SAMPLE_TIMEZONE
        now = now or resources.SAMPLE_NOW
    channels: frozenset[str] = frozenset()
    if prices is not None:
        zone_name = timezone or configured_zone(settings, site)
        if zone_name is None:
            raise UsageError(
                "no time zone for the site",
                "pass --timezone (e.g. Australia/Sydney) or set it with "
                "`amber-tesla-sync config set site.timezone Australia/Sydney`",
            )
        zone = parse_zone(zone_name)
        intervals = load_intervals_file(prices)
    else:
        from amber_tesla_sync.sync.preview import live_prices

        intervals, zone, channels = live_prices(
            run.app(), parse_zone(timezone).key if timezone else None, site
        )
    moment = run.now(now, zone=zone)
    chosen_price = forecast_price or settings.amber.forecast_price
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
        from amber_tesla_sync.render.envelope import emit

        emit("tariff", plan_json(result), result.now)
    else:
        from rich.console import Console

        render_plan(Console(highlight=False, soft_wrap=False), result)


def _forecast(value: str) -> "ForecastPrice":
    from amber_tesla_sync.errors import UsageError

    choices: tuple[ForecastPrice, ...] = ("predicted", "low", "high", "per_kwh")
    for option in choices:
        if value == option:
            return option
    raise UsageError(
        f"--forecast-price {value!r} is not one of {', '.join(FORECAST_PRICES)}",
        "pick one of those",
    )

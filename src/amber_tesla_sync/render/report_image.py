"""``report --png/--svg``: the report's charts as an image, drawn with matplotlib.

matplotlib is an optional extra (``amber-tesla-sync[charts]``) so that a small install (a
Raspberry Pi) stays small; it is imported only here, only when an image is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.render.report_view import series
from amber_tesla_sync.report.model import SiteReport

INSTALL = "pip install 'amber-tesla-sync[charts]'"


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: draw to a file
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "--png and --svg need the plotting library matplotlib, which is not installed",
            f"install it with `{INSTALL}` (or leave the option out for the terminal charts)",
        ) from None
    return plt


def write_image(sites: Sequence[SiteReport], path: Path) -> None:
    """One column per day of every site: buy price, battery power and grid power."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"cannot tell the image format of {path}", "name the file *.png or *.svg")
    plt = _pyplot()
    from matplotlib import dates

    days = [(site, day) for site in sites for day in site.days if day.slots]
    if not days:
        raise UsageError("there is nothing to draw: no day has data", "try other days (--days)")
    figure, axes = plt.subplots(
        3, len(days), figsize=(4.5 * len(days) + 1, 7), sharex="col", squeeze=False
    )
    for column, (site, day) in enumerate(days):
        data = series(day)
        times = [slot.start for slot in day.slots]
        width = (day.slots[0].end - day.slots[0].start).total_seconds() / 86400
        top, middle, bottom = axes[0][column], axes[1][column], axes[2][column]
        top.step(times, [v if v is not None else float("nan") for v in data["price"]], where="post")
        top.set_title(f"{site.site} {day.day:%a %d %b %Y}" + (" (est.)" if day.estimated else ""))
        battery = [v or 0.0 for v in data["battery"]]
        middle.bar(times, battery, width=width, align="edge",
                   color=["tab:green" if v >= 0 else "tab:blue" for v in battery])  # fmt: skip
        grid = [v or 0.0 for v in data["grid"]]
        bottom.bar(times, grid, width=width, align="edge",
                   color=["tab:red" if v >= 0 else "tab:orange" for v in grid])  # fmt: skip
        for axis in (middle, bottom):
            axis.axhline(0, color="grey", linewidth=0.5)
        if column == 0:
            top.set_ylabel("buy price, c/kWh")
            middle.set_ylabel("battery, kW\n(+ discharging)")
            bottom.set_ylabel("grid, kW\n(+ importing)")
        zone = ZoneInfo(day.zone)
        bottom.set_xlim(day.slots[0].start, day.slots[-1].end)
        hours = dates.HourLocator(byhour=range(0, 24, 3), tz=zone)  # type: ignore[no-untyped-call]
        labels = dates.DateFormatter("%H", tz=zone)  # type: ignore[no-untyped-call]
        bottom.xaxis.set_major_locator(hours)
        bottom.xaxis.set_major_formatter(labels)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)

"""``history``'s records as data: the rows of the JSON document and of the CSV and NDJSON exports.

One field set in every format (documented in the README, "Status and history"):

- a run: ``at``, ``outcome``, ``pushed``, ``reason``, ``fingerprint``, ``error``, ``exit_code``;
- a price interval, both channels side by side: ``start``, ``end``, ``minutes``, ``kind`` and
  ``buy`` (the general channel: Amber's price as paid), ``sell_kind`` and ``sell`` (the feed-in
  channel, as earned: positive when the site is paid); a channel without that interval is null;

prices in c/kWh as Amber gave them, times ISO 8601 in the site's zone with its offset. CSV and
NDJSON rows also name their ``site``. Receives data; reads nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from amber_tesla_sync.render.envelope import iso
from amber_tesla_sync.status.model import Run, SiteHistory

RUN_FIELDS = ("at", "outcome", "pushed", "reason", "fingerprint", "error", "exit_code")
PRICE_FIELDS = ("start", "end", "minutes", "kind", "buy", "sell_kind", "sell")
RECORDS = ("prices", "runs")


def run_row(run: Run, zone: dt.tzinfo) -> dict[str, Any]:
    return {
        "at": iso(run.started_at.astimezone(zone)),
        "outcome": run.outcome,
        "pushed": run.pushed,
        "reason": run.reason,
        "fingerprint": run.fingerprint,
        "error": run.error,
        "exit_code": run.exit_code,
    }


def price_rows(site: SiteHistory) -> list[dict[str, Any]]:
    """One row per interval (start and length), in time order, with both channels."""
    buy = {(start, minutes): (kind, price) for start, minutes, kind, price in site.prices}
    sell = {(start, minutes): (kind, price) for start, minutes, kind, price in site.sell}
    rows = []
    for start, minutes in sorted(buy.keys() | sell.keys()):
        buy_kind, buy_price = buy.get((start, minutes), (None, None))
        sell_kind, sell_price = sell.get((start, minutes), (None, None))
        rows.append(
            {
                "start": iso(start.astimezone(site.zone)),
                "end": iso((start + dt.timedelta(minutes=minutes)).astimezone(site.zone)),
                "minutes": minutes,
                "kind": buy_kind,
                "buy": buy_price,
                "sell_kind": sell_kind,
                "sell": sell_price,
            }
        )
    return rows


def site_json(site: SiteHistory) -> dict[str, Any]:
    """One site in ``history --json``."""
    return {
        "site": site.key,
        "runs": [run_row(run, site.zone) for run in site.runs],
        "prices": price_rows(site),
    }


def records(sites: Sequence[SiteHistory], which: str) -> Iterable[dict[str, Any]]:
    """Every site's ``which`` ("runs", newest first as shown, or "prices", in time order), each
    row naming its site."""
    for site in sites:
        rows = (
            [run_row(run, site.zone) for run in site.runs] if which == "runs" else price_rows(site)
        )
        for row in rows:
            yield {"site": site.key, **row}


def fields(which: str) -> tuple[str, ...]:
    return ("site", *(RUN_FIELDS if which == "runs" else PRICE_FIELDS))


def write_csv(out: TextIO, sites: Sequence[SiteHistory], which: str) -> None:
    """A header row, then one row per record; an empty cell for null, true/false for yes/no."""
    writer = csv.DictWriter(out, fields(which), lineterminator="\n")
    writer.writeheader()
    for row in records(sites, which):
        writer.writerow({key: _cell(value) for key, value in row.items()})


def write_ndjson(out: TextIO, sites: Sequence[SiteHistory], which: str) -> None:
    """One JSON object per line."""
    for row in records(sites, which):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value

"""Knowing our own tariffs by what they hold (pure: no I/O, ``now`` is an argument).

Tesla may apply a push late: a run can find the Powerwall still showing an earlier tariff of
ours, or the one the last push replaced. Neither is another app's tariff. So the site's state
keeps the content of the tariffs sent lately (:class:`~amber_tesla_sync.store.state.OwnPush`:
the last 24 h, at most 50) and what the Powerwall shows is recognised by content, never by when
it arrived (:func:`recognise`):

- ``last``: the last push, in effect as sent (rates within 1e-4 $/kWh, as a read-back is
  verified);
- ``earlier``: one of our earlier pushes (its rates and demand charges, rounded to the 4
  decimals every tariff is built with, so a read-back's float noise rounds away, match one sent
  lately);
- ``replaced``: the last push is not in effect yet and the Powerwall still shows, unchanged, the
  tariff it replaced;
- ``foreign``: anything else: another code or name, or ours with prices that match none of our
  pushes (an edit in the Tesla app): reported, and replaced;
- ``unknown``: not read in this run, or nothing pushed yet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from amber_tesla_sync.store.state import LastPush, OwnPush
from amber_tesla_sync.tariff.body import SEASON, build_tariff, period_name
from amber_tesla_sync.tariff.compare import differences, is_ours
from amber_tesla_sync.tariff.validate import rate_for

KEEP_FOR = dt.timedelta(hours=24)  # pushes remembered this long …
KEEP_AT_MOST = 50  # … and no more than this many (a push every 30 min is 48 a day)
TOLERANCE = 1e-4  # $/kWh: a read-back of the last push this close is the push as sent
LABELS = tuple(f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(0, 1440, 30))

Rates = Mapping[str, tuple[float, float]]
Kind = Literal["last", "earlier", "replaced", "foreign", "unknown"]


@dataclass(frozen=True)
class Seen:
    """What the Powerwall's tariff is, to this tool."""

    kind: Kind
    foreign: str | None = None  # why it is not ours (kind "foreign")
    pushed_at: dt.datetime | None = None  # when the earlier push it matches was sent
    rates: dict[str, tuple[float, float]] | None = None  # the rates it holds (kind "earlier")

    @property
    def ours(self) -> bool:
        """One of our tariffs, or the one our unverified push replaced (not someone else's)."""
        return self.kind in ("last", "earlier", "replaced")


def rates_print(rates: Rates, demand: Mapping[str, float] | None = None) -> str:
    """The content of a tariff's rates: a short hash of every slot's buy and sell and of its
    demand charges ($/kW; none or all 0: the hash of the rates alone), rounded to the 4 decimals
    the fold rounds to (so float noise in a read-back does not change it)."""
    items: list[Any] = [
        [label, round(buy * 10_000), round(sell * 10_000)]
        for label, (buy, sell) in sorted(rates.items())
    ]
    if demand is not None and any(value > 0 for value in demand.values()):
        items.append(["demand", [[k, round(v * 10_000)] for k, v in sorted(demand.items()) if v]])
    canonical = json.dumps(items, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def tariff_print(tariff: Any) -> str:
    """The content of any tariff as read back (canonical JSON): the same stored tariff reads
    back the same every time."""
    canonical = json.dumps(tariff, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def rates_of(tariff: Mapping[str, Any]) -> dict[str, tuple[float, float]] | None:
    """The rates of a tariff in our shape (48 half-hour periods, the same every day of the
    year), or None when it is not in that shape (periods or seasons edited)."""
    buy_charges = tariff.get("energy_charges")
    sell_tariff = tariff.get("sell_tariff")
    sell_charges = sell_tariff.get("energy_charges") if isinstance(sell_tariff, Mapping) else None
    if not isinstance(buy_charges, Mapping) or not isinstance(sell_charges, Mapping):
        return None
    rates: dict[str, tuple[float, float]] = {}
    for label in LABELS:
        buy = rate_for(buy_charges, SEASON, period_name(label))
        sell = rate_for(sell_charges, SEASON, period_name(label))
        if buy is None or sell is None:
            return None
        rates[label] = (buy, sell)
    # the same meaning as a tariff built from these rates: the periods and seasons are ours
    return rates if not differences(build_tariff(rates), tariff) else None


def demand_of(tariff: Mapping[str, Any]) -> dict[str, float] | None:
    """The demand charge ($/kW) by slot of a tariff in our shape (None: none, or not ours)."""
    charges = tariff.get("demand_charges")
    if not isinstance(charges, Mapping):
        return None
    found = {label: rate_for(charges, SEASON, period_name(label)) or 0.0 for label in LABELS}
    return found if any(found.values()) else None


def remember(pushes: Sequence[OwnPush], sent: OwnPush) -> list[OwnPush]:
    """``pushes`` with ``sent`` added, and those older than a day (or past the 50 most recent)
    dropped."""
    kept = [push for push in pushes if sent.pushed_at - push.pushed_at < KEEP_FOR]
    kept.append(sent)
    return kept[-KEEP_AT_MOST:]


def forget(pushes: Sequence[OwnPush], sent: OwnPush) -> list[OwnPush]:
    """``pushes`` without ``sent`` (Tesla refused it: it can never be in effect)."""
    return [push for push in pushes if push != sent]


def recognise(
    tariff: Any,
    read: bool,
    last: LastPush | None,
    pushes: Sequence[OwnPush],
) -> Seen:
    """What the Powerwall's ``tariff`` (``read``: site_info was read in this run) is to us."""
    if not read or last is None:
        return Seen("unknown")
    if is_ours(tariff):
        found = differences(build_tariff(last.rates, last.demand), tariff, tolerance=TOLERANCE)
        if not found:
            return Seen("last")
        rates = rates_of(tariff)
        content = rates_print(rates, demand_of(tariff)) if rates is not None else None
        match = next((p for p in reversed(pushes) if p.content == content), None)
        if match is not None:
            return Seen("earlier", pushed_at=match.pushed_at, rates=rates)
        why = f"ours, but changed: {found[0]}"
    elif isinstance(tariff, Mapping) and tariff.get("code"):
        why = f"code {tariff.get('code')!r}"
    else:
        why = "no tariff of this tool"
    if not last.verified and last.replaced is not None and last.replaced == tariff_print(tariff):
        return Seen("replaced")
    return Seen("foreign", why)

"""Rule 11: whether one Amber answer can be trusted, checked before the fold (pure: ``now`` is an
argument; no I/O, no clock).

The fold refuses, and nothing is pushed, when:

- a channel's own live data (actual, current and forecast intervals) reaches less than
  ``min_horizon_hours`` ahead of ``now`` (a stale, truncated or cut-short answer);
- a channel the site is known to have (``expected_channels``) is absent;
- the same channel and interval come twice with different prices (exact repeats are dropped),
  or two intervals of a channel overlap (by as little as a minute);
- an interval's duration is not one of Amber's (:data:`AMBER_DURATIONS`: 5, 15 or 30 minutes),
  e.g. one day-long forecast that would become a flat day from one price;
- an ``ActualInterval`` ends after ``now``, a ``CurrentInterval`` does not contain ``now``, or a
  ``ForecastInterval`` starts before ``now`` (with ``clock_slack_minutes`` either way): the data
  is stale or the system clock is wrong.

Implausible values (non-finite, mistyped, outside the NEM's price cap and floor) never get this
far: :mod:`amber_tesla_sync.amber.models` rejects them where the data enters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from amber_tesla_sync.amber.models import ACTUAL, CURRENT, FEED_IN, FORECAST, GENERAL, Interval
from amber_tesla_sync.tariff.model import FoldOptions

CHANNEL_NAMES = {GENERAL: "general (buy)", FEED_IN: "feed-in (sell)"}
LIVE_TYPES = frozenset({ACTUAL, CURRENT, FORECAST})
AMBER_DURATIONS = frozenset({5, 15, 30})
"""Interval lengths (minutes) in Amber's API 2.0.0 (15 is in the spec's enum, never seen)."""


@dataclass(frozen=True)
class Checked:
    """The intervals to fold (exact repeats dropped) and why they cannot be trusted, if so."""

    intervals: tuple[Interval, ...]
    problems: tuple[str, ...]


def check(intervals: Sequence[Interval], now: dt.datetime, options: FoldOptions) -> Checked:
    unique, problems = _deduplicated(intervals)
    slack = dt.timedelta(minutes=options.clock_slack_minutes)
    problems += _shapes(unique)
    problems += _timing(unique, now, slack)
    problems += _coverage(unique, now, options)
    return Checked(tuple(unique), tuple(problems))


def _span(item: Interval) -> str:
    return f"{item.start:%Y-%m-%d %H:%M}–{item.end:%H:%M} UTC"


def _deduplicated(intervals: Iterable[Interval]) -> tuple[list[Interval], list[str]]:
    seen: dict[tuple[str, dt.datetime, dt.datetime], Interval] = {}
    unique: list[Interval] = []
    conflicts: list[str] = []
    for item in intervals:
        if item.channel_type not in CHANNEL_NAMES or item.type not in LIVE_TYPES:
            continue  # not folded (controlled load, unknown types)
        key = (item.channel_type, item.start, item.end)
        first = seen.get(key)
        if first is None:
            seen[key] = item
            unique.append(item)
        elif (first.per_kwh, first.advanced_price) != (item.per_kwh, item.advanced_price):
            conflicts.append(
                f"{item.channel_type} {_span(item)}: {first.per_kwh:g} and {item.per_kwh:g} c/kWh"
            )
    if not conflicts:
        return unique, []
    more = f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else ""
    return unique, [
        "Amber's answer holds conflicting prices for the same interval ("
        + "; ".join(conflicts[:3])
        + more
        + ")"
    ]


def _shapes(intervals: Sequence[Interval]) -> list[str]:
    """Amber's durations only, and no two intervals of a channel overlapping."""
    problems = []
    odd = [item for item in intervals if item.duration not in AMBER_DURATIONS]
    if odd:
        item = odd[0]
        problems.append(
            f"{len(odd)} interval{'s' if len(odd) != 1 else ''} of a duration Amber does not use "
            f"(the first, {item.channel_type} {item.type} {_span(item)}, is {item.duration}-minute;"
            " Amber's are 5, 15 or 30 minutes)"
        )
    overlaps = []
    for channel in CHANNEL_NAMES:
        ordered = sorted(
            (item for item in intervals if item.channel_type == channel),
            key=lambda item: (item.start, item.end),
        )
        reach: Interval | None = None
        for item in ordered:
            if reach is not None and item.start < reach.end:
                overlaps.append(f"{channel} {_span(reach)} and {_span(item)}")
            if reach is None or item.end > reach.end:
                reach = item
    if overlaps:
        more = f" and {len(overlaps) - 3} more" if len(overlaps) > 3 else ""
        problems.append(
            "Amber's answer holds overlapping intervals (" + "; ".join(overlaps[:3]) + more + ")"
        )
    return problems


def _timing(intervals: Sequence[Interval], now: dt.datetime, slack: dt.timedelta) -> list[str]:
    problems = []
    future = [item for item in intervals if item.type == ACTUAL and item.end > now + slack]
    if future:
        latest = max(future, key=lambda item: item.end)
        minutes = (latest.end - now).total_seconds() / 60
        problems.append(
            f"{len(future)} past (actual) interval{'s' if len(future) != 1 else ''} end in the "
            f"future (the latest, {latest.channel_type} {_span(latest)}, ends {minutes:.0f} min "
            f"after now, {now:%Y-%m-%d %H:%M} UTC): the data or the system clock is wrong"
        )
    stale = [
        item
        for item in intervals
        if item.type == CURRENT and not (item.start - slack <= now < item.end + slack)
    ]
    if stale:
        item = stale[0]
        problems.append(
            f"Amber's current interval ({item.channel_type} {_span(item)}) does not contain now "
            f"({now:%Y-%m-%d %H:%M} UTC): the data is stale or the system clock is wrong"
        )
    early = [item for item in intervals if item.type == FORECAST and item.start < now - slack]
    if early:
        first = min(early, key=lambda item: item.start)
        minutes = (now - first.start).total_seconds() / 60
        problems.append(
            f"{len(early)} forecast interval{'s' if len(early) != 1 else ''} already lie in the "
            f"past (the earliest, {first.channel_type} {_span(first)}, started {minutes:.0f} min "
            f"before now, {now:%Y-%m-%d %H:%M} UTC): the data is stale or the system clock is wrong"
        )
    return problems


def _coverage(intervals: Sequence[Interval], now: dt.datetime, options: FoldOptions) -> list[str]:
    problems = []
    present = {item.channel_type for item in intervals if item.type in LIVE_TYPES}
    for channel in (GENERAL, FEED_IN):
        if channel not in present:
            if channel in options.expected_channels:
                problems.append(
                    f"the answer has no {CHANNEL_NAMES[channel]} prices, though the site has "
                    "that channel (a partial answer: refusing rather than pricing it at 0"
                    + ("; if the site no longer sells, set tariff.expect_feed_in = false)")
                    if channel == FEED_IN
                    else ")"
                )
            continue
        reach = max(i.end for i in intervals if i.channel_type == channel and i.type in LIVE_TYPES)
        hours = (reach - now).total_seconds() / 3600
        if hours < options.min_horizon_hours:
            problems.append(
                f"Amber's {CHANNEL_NAMES[channel]} prices reach only {max(hours, 0.0):.1f} h "
                f"ahead (to {reach:%Y-%m-%d %H:%M} UTC); at least "
                f"{options.min_horizon_hours:g} h are needed (tariff.min_horizon_hours)"
            )
    return problems

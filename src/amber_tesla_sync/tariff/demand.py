"""Demand windows: which of the 48 slots lie in the network's demand window, and at what charge.

On a demand tariff the network charges per kW of the highest import in a daily window (typically
afternoon to evening). The Powerwall avoids importing where the tariff carries a demand charge, so
the pushed tariff's ``demand_charges`` hold the charge in the window's slots and 0 elsewhere.
Amber's API marks the window (``tariffInformation.demandWindow``) but not the charge, which comes
from the settings (``[demand]``).

Which slots are in the window:

- **Amber's marks win.** When some general interval of Amber's answer says ``demandWindow: true``,
  a slot is in the window when one of the general intervals it covers is marked; a slot without
  Amber data (beyond the forecast horizon, or a gap) when the same time of day is marked on another
  day of the answer.
- **Otherwise the settings' hours**: ``demand.window`` (local ``HH:MM-HH:MM`` on the half-hour; an
  end at or before the start runs past midnight) on ``demand.days`` (``all`` days, or
  ``weekdays`` Monday to Friday, public holidays not known), each slot judged by its own date.
- Neither: no window, and the tariff carries no demand charge (the body is the same as without the
  setting).

Pure: no I/O, ``now`` is an argument.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.amber.models import GENERAL, Interval
from amber_tesla_sync.tariff.model import DemandOptions, DemandPlan, SlotSpan, label_of
from amber_tesla_sync.tariff.prices import effective_start

MINUTES_PER_DAY = 24 * 60
WINDOW_PATTERN = r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})\s*$"
_WINDOW = re.compile(WINDOW_PATTERN)
WINDOW_FORM = "HH:MM-HH:MM in the site's local time, on the half-hour, e.g. 16:00-21:00"


def parse_window(text: str) -> tuple[int, int]:
    """``"16:00-21:00"`` → ``(960, 1260)``: minutes of the day, the end past the start, or at or
    before it for a window over midnight (``"22:00-02:00"``); ``"00:00-24:00"`` is the whole day.
    Raises ``ValueError`` naming the expected form."""
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window; expected {WINDOW_FORM}")
    minutes = []
    for hour, minute in ((match[1], match[2]), (match[3], match[4])):
        value = int(hour) * 60 + int(minute)
        if int(minute) >= 60 or value > MINUTES_PER_DAY:
            raise ValueError(f"{hour}:{minute} is not a time of day; expected {WINDOW_FORM}")
        if value % 30:
            raise ValueError(
                f"{hour}:{minute} is not on the half-hour (the tariff's slots are half-hours); "
                f"expected {WINDOW_FORM}"
            )
        minutes.append(value)
    start, end = minutes[0] % MINUTES_PER_DAY, minutes[1]
    if end == MINUTES_PER_DAY and start == 0:
        return start, end  # the whole day
    if start == end % MINUTES_PER_DAY:
        raise ValueError(f"{text!r} is empty (it starts where it ends); expected {WINDOW_FORM}")
    return start, end % MINUTES_PER_DAY if end < start else end


def window_text(start: int, end: int) -> str:
    """``(960, 1260)`` → ``"16:00–21:00"``."""
    return f"{label_of(start)}\u2013{label_of(end % MINUTES_PER_DAY)}"


def in_window(minute: int, window: tuple[int, int]) -> bool:
    start, end = window
    return start <= minute < end if start < end else minute >= start or minute < end


def _minute(label: str) -> int:
    hours, minutes = label.split(":")
    return int(hours) * 60 + int(minutes)


def _marked(item: Interval) -> bool:
    info = item.tariff_information
    return info is not None and info.demand_window is True


def plan_demand(
    intervals: Sequence[Interval],
    spans: Sequence[SlotSpan],
    now: dt.datetime,
    zone: ZoneInfo,
    options: DemandOptions,
) -> DemandPlan:
    """The window's slots among ``spans`` (see the module's rules). ``intervals``: Amber's answer
    (any channels; only general intervals carry the mark)."""
    general = [item for item in intervals if item.channel_type == GENERAL]
    marked = [item for item in general if _marked(item)]
    if marked:
        labels = _amber_labels(general, marked, spans, now, zone)
        return DemandPlan(options.charge_per_kw, "amber", labels)
    if options.window is None:
        return DemandPlan(options.charge_per_kw, "none", frozenset())
    window = options.window
    chosen = set()
    for span in spans:
        weekday = span.start.astimezone(zone).weekday()
        if options.days == "weekdays" and weekday >= 5:
            continue
        if in_window(_minute(span.label), window):
            chosen.add(span.label)
    return DemandPlan(options.charge_per_kw, "settings", frozenset(chosen))


def _amber_labels(
    general: Sequence[Interval],
    marked: Sequence[Interval],
    spans: Sequence[SlotSpan],
    now: dt.datetime,
    zone: ZoneInfo,
) -> frozenset[str]:
    marked_times = {_half_hour_label(item.start, zone) for item in marked}
    chosen = set()
    for span in spans:
        start = effective_start(span, now)  # the current slot: from now on, as its price
        covering = [item for item in general if item.start < span.end and item.end > start]
        if covering:
            if any(_marked(item) for item in covering):
                chosen.add(span.label)
        elif span.label in marked_times:
            chosen.add(span.label)
    return frozenset(chosen)


def _half_hour_label(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return label_of((local.hour * 60 + local.minute) // 30 * 30)


def demand_of(tariff: Any) -> DemandPlan | None:
    """The demand window of a ``tariff_content_v2`` in this tool's shape (48 ``PERIOD_HH_MM``
    labels): the slots whose demand rate is not 0, and the charge (the highest such rate). None
    when it carries no demand charge."""
    if not isinstance(tariff, Mapping):
        return None
    demand = tariff.get("demand_charges")
    blocks = demand.values() if isinstance(demand, Mapping) else ()
    rates: dict[str, Any] = {}
    for block in blocks:
        found_rates = block.get("rates") if isinstance(block, Mapping) else None
        if isinstance(found_rates, Mapping):
            rates.update(found_rates)
    found = {}
    for name, value in rates.items():
        label = str(name).removeprefix("PERIOD_").replace("_", ":")
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and value > 0
            and re.fullmatch(r"\d\d:\d\d", label)
        ):
            found[label] = float(value)
    if not found:
        return None
    return DemandPlan(max(found.values()), "tariff", frozenset(found))


def windows(labels: frozenset[str]) -> list[tuple[int, int]]:
    """The window's slots as runs of the day ``[(start, end)]`` in minutes, ``end`` possibly past
    midnight (a run over midnight is one run), in time-of-day order."""
    minutes = sorted(_minute(label) for label in labels)
    runs: list[list[int]] = []
    for minute in minutes:
        if runs and runs[-1][1] == minute:
            runs[-1][1] = minute + 30
        else:
            runs.append([minute, minute + 30])
    if len(runs) > 1 and runs[-1][1] == MINUTES_PER_DAY and runs[0][0] == 0:
        last = runs.pop()
        runs[0] = [last[0], runs[0][1] + MINUTES_PER_DAY]
        runs.sort()
    return [(start, end) for start, end in runs]


def describe(plan: DemandPlan) -> str:
    """``"16:00–21:00"`` (or several runs: ``"07:00–09:00, 16:00–21:00"``)."""
    return ", ".join(window_text(start, end) for start, end in windows(plan.labels))

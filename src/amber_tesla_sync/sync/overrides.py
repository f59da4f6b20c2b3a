"""The owner's overrides, planned (pure): when one runs, what it sets, how it shapes the tariff.

- ``charge``: the tariff's slots within the window buy (and sell) at 0, the backup reserve raised
  to the target and grid charging allowed: a Powerwall charges from the grid;
- ``export``: the window's sell price raised above every buy price outside it, a cent a slot
  higher the sooner the slot (the slot of the moment is the dearest of all: every sync in the
  window shapes it again), its buy price the same (Tesla raises a buy price below the sell price
  to it anyway, so no price is ever above buy), the export rule ``battery_ok``: a Powerwall in
  Time-Based Control exports;
- ``hold``: the backup reserve at the floor (the battery does not discharge below it), the tariff
  as the prices make it;
- ``pause``: nothing is written to the Powerwall at all until the end.

A window is every half-hour slot it touches. The owner's value of each setting changed is saved
before the change (:func:`owner_values`) and owed back at the end (:func:`owed`): see
:mod:`amber_tesla_sync.store.overrides` and design rule 12.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.store.overrides import Kind, Override
from amber_tesla_sync.store.state import Restore
from amber_tesla_sync.support.times import parse_instant
from amber_tesla_sync.sync.owner_settings import LABELS, ON, value_of
from amber_tesla_sync.tariff import TariffPlan, build_request_body

if TYPE_CHECKING:  # the models come with the Tesla client
    from amber_tesla_sync.tesla.models import SiteInfo

MAX_AHEAD = dt.timedelta(hours=24)
BATTERY_OK = "battery_ok"
EXPORT_MARGIN = 0.01  # $/kWh above the dearest buy price
SNAPPED = (80, 100)  # firmware from 25.18.4 takes a reserve of 81-99 % as 80 %
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")


def duration(text: str) -> dt.timedelta:
    """``90m``, ``2h``, ``1h30m`` → a duration."""
    found = _DURATION.match(text.strip().lower())
    if not text.strip() or found is None:
        raise UsageError(f"--for {text!r} is not a duration", "use e.g. 90m, 2h or 1h30m")
    hours, minutes = (int(part or 0) for part in found.groups())
    return dt.timedelta(hours=hours, minutes=minutes)


def until(text: str, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """``HH:MM`` (site time, its next occurrence) or an ISO 8601 date-time → an instant (UTC)."""
    value = text.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", value):
        hour, minute = (int(part) for part in value.split(":"))
        if hour > 23 or minute > 59:
            raise UsageError(f"--until {text!r} is not a time of day", "use HH:MM, e.g. 17:30")
        local = now.astimezone(zone)
        moment = dt.datetime.combine(local.date(), dt.time(hour, minute), zone)
        if moment <= local:
            moment = dt.datetime.combine(local.date() + dt.timedelta(days=1), moment.time(), zone)
        return moment.astimezone(dt.UTC)
    return parse_instant(
        value,
        zone,
        f"--until {text!r} is neither HH:MM nor an ISO 8601 date-time",
        "use e.g. 17:30 or 2026-01-15T17:30",
    ).astimezone(dt.UTC)


def window(
    now: dt.datetime, for_: str | None, until_: str | None, zone: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime]:
    """The override's window from ``now``: exactly one of ``--for`` and ``--until``."""
    if (for_ is None) == (until_ is None):
        raise UsageError(
            "say how long: exactly one of --for and --until", "e.g. --for 2h or --until 17:30"
        )
    end = now + duration(for_) if for_ is not None else until(str(until_), now, zone)
    if end <= now:
        raise UsageError("the override would end before it starts", "give a time in the future")
    if end - now > MAX_AHEAD:
        raise UsageError(
            "an override lasts at most 24 hours", "give a shorter --for or an earlier --until"
        )
    return now.astimezone(dt.UTC), end


def checked_percent(kind: Kind, value: float) -> float:
    """A target or floor Tesla keeps as given: 0-80 or 100 (81-99 would become 80)."""
    name = "--target" if kind == "charge" else "--floor"
    if not 0 <= value <= 100:
        raise UsageError(f"{name} {value:g} is not a percentage", "give a value from 0 to 100")
    if SNAPPED[0] < value < SNAPPED[1]:
        raise UsageError(
            f"{name} {value:g}: the Powerwall takes a backup reserve of 81-99 % as 80 %",
            f"use {name} 80 or {name} 100",
        )
    return value


def floor_of(charge: float) -> float:
    """hold's default floor: the charge now, in whole percent (81-99 % held at 80 %)."""
    whole = float(int(charge))
    return SNAPPED[0] if SNAPPED[0] < whole < SNAPPED[1] else whole


def wanted(kind: Kind, percent: float | None) -> dict[str, str]:
    """The settings an override sets, with their values."""
    reserve = f"{percent if percent is not None else 100:g}"
    if kind == "charge":
        return {"backup_reserve": reserve, "grid_charging": ON}
    if kind == "export":
        return {"export_rule": BATTERY_OK}
    if kind == "hold":
        return {"backup_reserve": reserve}
    return {}


def in_force(manual: Iterable[Override], now: dt.datetime) -> Override | None:
    return next((item for item in manual if item.in_force(now)), None)


def overlapping(
    manual: Iterable[Override], start: dt.datetime, end: dt.datetime
) -> Override | None:
    """An override not ended yet whose window meets ``start``-``end``."""
    return next((o for o in manual if o.ended_at is None and o.start < end and start < o.end), None)


def held(manual: Iterable[Override]) -> set[str]:
    """The settings an override holds now (begun and not yet ended by a sync)."""
    return {key for item in manual if item.ended_at is None for key in item.wanted}


def owner_values(
    override: Override,
    site: SiteInfo,
    restores: Mapping[str, Restore],
    curtailed_rule: str | None,
) -> tuple[dict[str, Restore], set[str]]:
    """The owner's value of each setting ``override`` changes, to save before the change; and the
    settings that need no command (the Powerwall has the value already).

    The owner's value is one record, never overwritten by this tool's own: a value still owed
    from an earlier change is that value (its record moves here), the export rule saved by
    curtailment is the owner's rule, and a value saved by an earlier attempt stays."""
    saved = dict(override.saved)
    settled: set[str] = set()
    for setting, value in override.wanted.items():
        current = value_of(site, setting)
        if setting not in saved:
            owner = current
            if setting in restores:
                owner = restores[setting].value
            elif setting == "export_rule" and curtailed_rule is not None:
                owner = curtailed_rule
            if owner is None:
                continue  # the Powerwall does not report it: left alone
            if owner != value:
                saved[setting] = Restore(value=owner, ours=value)
        if current == value:
            settled.add(setting)
    return saved, settled


def owed(override: Override, now: dt.datetime) -> dict[str, Restore]:
    """The saved values now due back (the override ended, or was cleared)."""
    why = f"the {override.kind} override " + ("was cleared" if override.cleared else "ended")
    return {
        setting: record.model_copy(update={"why": why, "due_since": now})
        for setting, record in override.saved.items()
    }


def change_line(setting: str, before: str | None, after: str) -> str:
    unit = " %" if setting == "backup_reserve" else ""
    return f"{LABELS.get(setting, setting)} {before or '?'}{unit} → {after}{unit}"


def shape(plan: TariffPlan, override: Override) -> tuple[TariffPlan, list[str]]:
    """The tariff while ``override`` is in force, and the labels of the slots it changed (charge:
    buy and sell 0; export: sell and buy above every other buy price; hold and pause: as it is)."""
    if override.kind not in ("charge", "export"):
        return plan, []
    inside = [s.span.start < override.end and s.span.end > override.start for s in plan.slots]
    top = max((s.buy for s, is_in in zip(plan.slots, inside, strict=True) if not is_in), default=0)
    steps = sum(inside)
    slots, changed = [], []
    for slot, is_in in zip(plan.slots, inside, strict=True):
        if not is_in:
            slots.append(slot)
            continue
        changed.append(slot.label)
        if override.kind == "charge":
            slots.append(dataclasses.replace(slot, buy=0.0, sell=0.0))
        else:  # a step down each slot: the slot of the moment sells dearest of all
            price = round(top + EXPORT_MARGIN * (steps - len(changed) + 1), 4)
            slots.append(dataclasses.replace(slot, buy=price, sell=price, sell_capped=False))
    demand = plan.demand.rates() if plan.demand is not None else None
    body = build_request_body({slot.label: (slot.buy, slot.sell) for slot in slots}, demand)
    return dataclasses.replace(plan, slots=tuple(slots), body=body), changed


def describe(override: Override, zone: dt.tzinfo) -> str:
    """``charge to 100 % until 17:30`` (site time)."""
    end = override.end.astimezone(zone)
    what = {
        "charge": f"charge to {override.percent or 100:g} %",
        "export": "export",
        "hold": f"hold at {override.percent or 0:g} %",
        "pause": "pause (no writes)",
    }[override.kind]
    return f"{what} until {end:%a %H:%M}"

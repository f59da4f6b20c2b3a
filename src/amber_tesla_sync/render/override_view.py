"""What ``override`` prints, and the overrides in ``status`` and ``sync`` (lines and JSON)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from amber_tesla_sync.render.envelope import iso
from amber_tesla_sync.store.overrides import Override
from amber_tesla_sync.sync.overrides import describe

OVERDUE = "ended, not yet restored"


def state_of(override: Override, now: dt.datetime) -> str:
    """``in force``, ``starting`` (its changes not all made yet), ``ended, not yet restored``
    (past its end and no sync since: its settings are still on the Powerwall) or ``ended``."""
    if override.ended_at is not None:
        return "cleared" if override.cleared else "ended"
    if override.overdue(now):
        return OVERDUE
    return "in force" if override.started else "starting"


def slot_range(labels: Iterable[str]) -> str:
    """``16:30-18:00 (4 slots)``: the tariff slots an override changed."""
    chosen = list(labels)
    if not chosen:
        return "none"
    return f"{', '.join(chosen)} ({len(chosen)} slot{'s' if len(chosen) != 1 else ''})"


def override_json(site: str, override: Override, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": override.id,
        "site": site,
        "kind": override.kind,
        "state": state_of(override, now),
        "start": iso(override.start),
        "end": iso(override.end),
        "ended_at": iso(override.ended_at),
        "percent": override.percent,
        "changes": list(override.changes),
        "tariff_slots": list(override.slots),
        "owner_values": {key: record.value for key, record in override.saved.items()},
    }


def override_lines(site: str, override: Override, now: dt.datetime, zone: dt.tzinfo) -> list[str]:
    """An override: what, until when, in what state, what it changed."""
    lines = [f"{override.id}  {site}: {describe(override, zone)} — {state_of(override, now)}"]
    lines.extend(f"    changed: {change}" for change in override.changes)
    if override.slots:
        lines.append(f"    tariff slots: {slot_range(override.slots)}")
    if state_of(override, now) == OVERDUE:
        lines.append(
            "    its settings stay on the Powerwall until a sync restores them: run "
            "`amber-tesla-sync sync` (is the timer running?)"
        )
    return lines


def listing_lines(
    found: list[tuple[str, Override]], now: dt.datetime, zone: dt.tzinfo
) -> list[str]:
    if not found:
        return ["no overrides: the prices decide"]
    return [line for site, item in found for line in override_lines(site, item, now, zone)]


def started_lines(site: str, override: Override, kept: bool, zone: dt.tzinfo) -> list[str]:
    """What starting an override did on the Powerwall."""
    head = f"override {override.id} on {site}: {describe(override, zone)}"
    if not kept:
        return [f"{head} — not started: nothing was changed on the Powerwall"]
    lines = [head]
    if override.kind == "pause":
        lines.append("  nothing is written to the Powerwall until then (owed restores wait too)")
    lines.extend(f"  changed: {change}" for change in override.changes)
    if override.slots:
        what = "buy and sell 0 c/kWh" if override.kind == "charge" else "sell above every buy"
        lines.append(f"  tariff slots changed ({what}): {slot_range(override.slots)}")
    return lines

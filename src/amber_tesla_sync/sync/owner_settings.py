"""Opt-in fixes of the Powerwall's mode and export rule, and the owner's own values (pure).

With ``sync.ensure_autonomous`` the mode is set to Time-Based Control (autonomous); with
``sync.ensure_battery_export`` a blocking export rule (``pv_only``, ``never``) becomes
``battery_ok``. As with curtailment, the owner's value is saved before the first change (and is
never replaced by this tool's own). When the option is switched off the value is owed back: it
becomes a :class:`~amber_tesla_sync.store.state.Restore` record, cleared only once Tesla accepted
the restore (:func:`due` decides each run what to do with a record; a failed restore is sent again
on the next run). If the owner has changed the setting by hand meanwhile, their value wins. The
backup reserve and grid charging are never touched by these options: only an owner's override
(:mod:`amber_tesla_sync.sync.overrides`) changes them, and their values are owed back the same way
(``backup_reserve`` as a percentage, ``grid_charging`` as ``on`` / ``off``). While export
curtailment is active, an override holds a setting, or a value of a setting is still owed, that
setting belongs to them and is left alone here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from amber_tesla_sync.store.state import Overrides, Restore
from amber_tesla_sync.sync.powerwall_checks import BLOCKING_EXPORT_RULES

if TYPE_CHECKING:  # the models come with the Tesla client
    from amber_tesla_sync.tesla.models import SiteInfo

AUTONOMOUS = "autonomous"
BATTERY_OK = "battery_ok"
Setting = Literal["mode", "export_rule", "backup_reserve", "grid_charging"]
LABELS: dict[str, str] = {
    "mode": "mode",
    "export_rule": "export rule",
    "backup_reserve": "backup reserve",
    "grid_charging": "grid charging",
}
SETTINGS: dict[str, Setting] = {
    "mode": "mode",
    "export_rule": "export_rule",
    "backup_reserve": "backup_reserve",
    "grid_charging": "grid_charging",
}
ON, OFF = "on", "off"  # grid charging allowed / not allowed


@dataclass(frozen=True)
class Change:
    setting: Setting
    value: str
    note: str


@dataclass(frozen=True)
class Due:
    """What to do now with an owed value: send it back (``send``), or drop the record."""

    setting: Setting
    record: Restore
    send: bool
    note: str


def percent(value: float) -> str:
    """A backup reserve as a setting's value (``"20"``, ``"12.5"``)."""
    return f"{value:g}"


def value_of(site: SiteInfo, setting: str) -> str | None:
    """The Powerwall's value of ``setting``, as the records hold it (None: not reported)."""
    if setting == "mode":
        return site.mode
    if setting == "backup_reserve":
        return percent(site.backup_reserve) if site.backup_reserve is not None else None
    if setting == "grid_charging":
        disallowed = site.components.grid_charging_disallowed
        return None if disallowed is None else (OFF if disallowed else ON)
    return site.export_rule


def owed_line(setting: str, record: Restore) -> str:
    """The warning while ``record`` is owed (``sync``, ``status``, the notification)."""
    label = LABELS.get(setting, setting)
    failed = f"; the last attempt failed: {record.error}" if record.error else ""
    return (
        f"your {label} {record.value} is not restored yet ({record.why}{failed}); every sync "
        f"sends it again until Tesla accepts it, or set the {label} in the Tesla app yourself"
    )


def due(site: SiteInfo | None, restores: Mapping[str, Restore]) -> list[Due]:
    """The owed values and what to do with each, given the Powerwall's settings (None: unread,
    send them). A setting the Powerwall does not report stays owed, for the next run."""
    found: list[Due] = []
    for setting, record in restores.items():
        if setting not in SETTINGS:
            continue  # a setting of another version: kept as it is
        key = SETTINGS[setting]
        label = LABELS[setting]
        current = value_of(site, setting) if site is not None else record.ours
        if current is None:
            continue
        if current == record.value:
            found.append(Due(key, record, False, f"your {label} {record.value} is back"))
        elif record.ours is not None and current != record.ours:
            found.append(
                Due(
                    key,
                    record,
                    False,
                    f"your {label} is {current} now (set by hand): kept as it is, "
                    f"{record.value} is not restored",
                )
            )
        else:
            again = " again" if record.attempts else ""
            note = f"{record.why}: restoring your {label} {record.value}{again}"
            found.append(Due(key, record, True, note))
    return found


def plan(
    site: SiteInfo,
    saved: Overrides,
    ensure_mode: bool,
    ensure_export: bool,
    curtailing: bool,
    now: dt.datetime,
    owed: Collection[str] = (),
) -> tuple[list[Change], Overrides, dict[str, Restore]]:
    """The changes to send now, the overrides and the values now owed back: both to save BEFORE
    sending anything. A setting in ``owed`` is left alone (its record owns it)."""
    changes: list[Change] = []
    restores: dict[str, Restore] = {}
    mode, owner_mode = site.mode, saved.owner_mode
    if "mode" in owed:
        pass
    elif ensure_mode and mode is not None and mode != AUTONOMOUS:
        owner_mode = owner_mode or mode
        changes.append(Change("mode", AUTONOMOUS, f"mode {mode} → {AUTONOMOUS}"))
    elif not ensure_mode and owner_mode is not None and mode is not None:
        if mode == AUTONOMOUS:
            why = "sync.ensure_autonomous is off"
            restores["mode"] = Restore(value=owner_mode, ours=AUTONOMOUS, why=why, due_since=now)
        owner_mode = None
    rule, owner_rule = site.export_rule, saved.owner_export_rule
    if not curtailing and rule is not None and "export_rule" not in owed:
        if ensure_export and rule in BLOCKING_EXPORT_RULES:
            owner_rule = owner_rule or rule
            changes.append(Change("export_rule", BATTERY_OK, f"export rule {rule} → {BATTERY_OK}"))
        elif not ensure_export and owner_rule is not None:
            if rule == BATTERY_OK:
                why = "sync.ensure_battery_export is off"
                restores["export_rule"] = Restore(
                    value=owner_rule, ours=BATTERY_OK, why=why, due_since=now
                )
            owner_rule = None
    return changes, Overrides(owner_mode=owner_mode, owner_export_rule=owner_rule), restores


def applied(site: SiteInfo, changes: list[Change]) -> SiteInfo:
    """``site`` as it is once ``changes`` are in effect."""
    info = dict(site.raw)
    components = dict(site.components.raw)
    for change in changes:
        if change.setting == "mode":
            info["default_real_mode"] = change.value
        elif change.setting == "backup_reserve":
            info["backup_reserve_percent"] = float(change.value)
        elif change.setting == "grid_charging":
            components["disallow_charge_from_grid_with_solar_installed"] = change.value == OFF
        else:
            components["customer_preferred_export_rule"] = change.value
    info["components"] = components
    return type(site).parse(info)

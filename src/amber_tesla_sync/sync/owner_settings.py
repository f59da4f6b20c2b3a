"""Opt-in fixes of the Powerwall's mode and export rule, and the owner's own values (pure).

With ``sync.ensure_autonomous`` the mode is set to Time-Based Control (autonomous); with
``sync.ensure_battery_export`` a blocking export rule (``pv_only``, ``never``) becomes
``battery_ok``. As with curtailment, the owner's value is saved before the first change (and is
never replaced by this tool's own), and restored when the option is switched off, unless the owner
has changed the setting since. The backup reserve is never touched. While export curtailment is
active the export rule belongs to curtailment and is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from amber_tesla_sync.store.state import Overrides
from amber_tesla_sync.sync.powerwall_checks import BLOCKING_EXPORT_RULES

if TYPE_CHECKING:  # the models come with the Tesla client
    from amber_tesla_sync.tesla.models import SiteInfo

AUTONOMOUS = "autonomous"
BATTERY_OK = "battery_ok"


@dataclass(frozen=True)
class Change:
    setting: Literal["mode", "export_rule"]
    value: str
    note: str


def plan(
    site: SiteInfo,
    saved: Overrides,
    ensure_mode: bool,
    ensure_export: bool,
    curtailing: bool,
) -> tuple[list[Change], Overrides]:
    """The changes to send now and the overrides to save BEFORE sending them."""
    changes: list[Change] = []
    mode, owner_mode = site.mode, saved.owner_mode
    if ensure_mode and mode is not None and mode != AUTONOMOUS:
        owner_mode = owner_mode or mode
        changes.append(Change("mode", AUTONOMOUS, f"mode {mode} → {AUTONOMOUS}"))
    elif not ensure_mode and owner_mode is not None and mode is not None:
        if mode == AUTONOMOUS:
            changes.append(
                Change(
                    "mode",
                    owner_mode,
                    f"sync.ensure_autonomous is off: restoring your mode {owner_mode}",
                )
            )
        owner_mode = None
    rule, owner_rule = site.export_rule, saved.owner_export_rule
    if not curtailing and rule is not None:
        if ensure_export and rule in BLOCKING_EXPORT_RULES:
            owner_rule = owner_rule or rule
            changes.append(Change("export_rule", BATTERY_OK, f"export rule {rule} → {BATTERY_OK}"))
        elif not ensure_export and owner_rule is not None:
            if rule == BATTERY_OK:
                changes.append(
                    Change(
                        "export_rule",
                        owner_rule,
                        f"sync.ensure_battery_export is off: restoring your export rule "
                        f"{owner_rule}",
                    )
                )
            owner_rule = None
    return changes, Overrides(owner_mode=owner_mode, owner_export_rule=owner_rule)


def applied(site: SiteInfo, changes: list[Change]) -> SiteInfo:
    """``site`` as it is once ``changes`` are in effect."""
    info = dict(site.raw)
    components = dict(site.components.raw)
    for change in changes:
        if change.setting == "mode":
            info["default_real_mode"] = change.value
        else:
            components["customer_preferred_export_rule"] = change.value
    info["components"] = components
    return type(site).parse(info)

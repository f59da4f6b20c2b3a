"""Can the Powerwall obey the tariff? The settings that decide it, from one ``site_info`` read.

Pure: each finding is one line, the problem and its fix. ``sync``, ``status`` and ``doctor`` show
them, and a notification tells the owner once. The state of charge is not in ``site_info``; the
reserve-above-charge finding needs it and appears where ``live_status`` was read (``status``,
``doctor``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models come with the Tesla client
    from amber_tesla_sync.tesla.models import SiteInfo

BLOCKING_EXPORT_RULES = ("pv_only", "never")


@dataclass(frozen=True)
class Finding:
    key: str  # mode | strategy | export_rule | grid_charging | reserve | tou
    problem: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.problem}: {self.fix}"


def findings(site: SiteInfo, soc: float | None = None, curtailing: bool = False) -> list[Finding]:
    """What stops the pushed tariff from working. ``curtailing``: the export rule is this tool's
    own curtailment (not a problem); ``soc``: the state of charge in %, when known."""
    found: list[Finding] = []
    if not site.tou_capable:
        found.append(
            Finding(
                "tou",
                "the Powerwall says it cannot take a time-of-use tariff (tou_capable false)",
                "check the site in the Tesla app (an installer or VPP may control it)",
            )
        )
    mode = site.mode
    if mode is not None and mode != "autonomous":
        found.append(
            Finding(
                "mode",
                f"the Powerwall is in {mode} mode, where the tariff has no effect",
                "choose Time-Based Control in the Tesla app, or set sync.ensure_autonomous = true",
            )
        )
    strategy = site.strategy
    if strategy is not None and strategy != "economics":
        found.append(
            Finding(
                "strategy",
                f"the optimisation strategy is {strategy}: the Powerwall will not export for price",
                "choose Cost Saving in the Tesla app (`sync --force` sends economics with the "
                "tariff)",
            )
        )
    rule = site.export_rule
    if rule in BLOCKING_EXPORT_RULES and not curtailing:
        found.append(
            Finding(
                "export_rule",
                f"the export rule is {rule}: the battery cannot export when selling pays, which "
                "costs most in a price spike",
                "allow battery exports in the Tesla app (Energy exports: Everything), or set "
                "sync.ensure_battery_export = true",
            )
        )
    if site.components.grid_charging_disallowed is True:
        found.append(
            Finding(
                "grid_charging",
                "grid charging is off: the battery cannot fill up in the cheap windows",
                "allow grid charging in the Tesla app (Grid charging: on)",
            )
        )
    reserve = site.backup_reserve
    if reserve is not None:
        if reserve >= 100:
            found.append(
                Finding(
                    "reserve",
                    "the backup reserve is 100 %: the whole battery is kept for outages, nothing "
                    "is left to trade",
                    "lower the backup reserve in the Tesla app (e.g. to 20 %)",
                )
            )
        elif soc is not None and reserve > soc + 1:
            found.append(
                Finding(
                    "reserve",
                    f"the backup reserve ({reserve:.0f} %) is above the charge ({soc:.0f} %): "
                    "the battery only charges up to the reserve and trades nothing",
                    "lower the backup reserve in the Tesla app if that is not what you want",
                )
            )
    return found

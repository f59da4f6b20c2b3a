"""The simulated Powerwall energy site: settings, stored tariff, commands (no HTTP)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from amber_tesla_sync.sandbox.battery import BatteryInputs, BatterySim
from amber_tesla_sync.sandbox.default_tariff import default_utility_tariff
from amber_tesla_sync.sandbox.energy_history import (
    energy_body,
    power_body,
    soe_body,
    window,
)
from amber_tesla_sync.sandbox.site_history import SiteHistory
from amber_tesla_sync.sandbox.tariff_lookup import TariffLookup
from amber_tesla_sync.sandbox.tariff_readback import readback
from amber_tesla_sync.sandbox.tariff_rules import interpret_tou_post, normalise, validate
from amber_tesla_sync.sandbox.tariff_v1 import tariff_v1

MODES = ("autonomous", "self_consumption", "backup")
EXPORT_RULES = ("battery_ok", "pv_only", "never")


@dataclass
class CommandResult:
    """Outcome of a command: a 400 problem, or Tesla's ``{result, reason}``."""

    result: bool
    reason: str = ""
    bad_request: str | None = None


@dataclass
class EnergySite:
    """Settings and state of the one energy site of the sandbox user."""

    energy_site_id: int
    seed: int
    site_name: str = "Sandbox Home"
    installation_time_zone: str = "Australia/Sydney"
    default_real_mode: str = "autonomous"
    backup_reserve_percent: float = 20
    customer_preferred_export_rule: str = "battery_ok"
    disallow_charge_from_grid_with_solar_installed: bool = False
    non_export_configured: bool = False
    tou_capable: bool = True
    edit_setting_permission_to_export: bool = True
    edit_setting_grid_charging: bool = True
    edit_setting_energy_exports: bool = True
    optimization_strategy: str = "economics"
    version: str = "25.10.1 3c7c1b6e"
    battery_count: int = 2
    refuse_commands: str | None = None
    """When set, every command answers ``result: false`` with this reason."""
    tariff_apply_delay: float = 0.0
    """Seconds (sandbox clock) before a pushed tariff shows in ``site_info``."""
    tariff: Any = field(default_factory=lambda: normalise(default_utility_tariff()))
    pending_tariff: tuple[datetime, Any] | None = None
    tou_posts: list[dict[str, Any]] = field(default_factory=list)
    battery: BatterySim | None = None

    def __post_init__(self) -> None:
        if self.battery is None:
            self.battery = BatterySim(self.seed, self.installation_time_zone)
        self._lookup = TariffLookup(self.tariff)

    # -- reads -------------------------------------------------------------------------------

    def current_tariff(self, now: datetime) -> Any:
        """The stored tariff, applying a pending one whose delay has passed."""
        if self.pending_tariff is not None and now >= self.pending_tariff[0]:
            self._store(self.pending_tariff[1])
            self.pending_tariff = None
        return self.tariff

    def _store(self, tariff: Any) -> None:
        self.tariff = tariff
        self._lookup = TariffLookup(tariff)

    def _inputs(self, now: datetime) -> BatteryInputs:
        self.current_tariff(now)
        return BatteryInputs(
            mode=self.default_real_mode,
            reserve_percent=float(self.backup_reserve_percent),
            export_rule=self.customer_preferred_export_rule,
            grid_charging_allowed=not self.disallow_charge_from_grid_with_solar_installed,
            tariff=self._lookup,
        )

    def components(self) -> dict[str, Any]:
        """``site_info.components``."""
        return {
            "solar": True,
            "solar_type": "pv_panel",
            "battery": True,
            "grid": True,
            "backup": True,
            "gateway": "teg",
            "load_meter": True,
            "tou_capable": self.tou_capable,
            "storm_mode_capable": True,
            "battery_type": "ac_powerwall",
            "configurable": True,
            "grid_services_enabled": False,
            "customer_preferred_export_rule": self.customer_preferred_export_rule,
            "disallow_charge_from_grid_with_solar_installed": (
                self.disallow_charge_from_grid_with_solar_installed
            ),
            "non_export_configured": self.exports_off(),
            "edit_setting_permission_to_export": self.edit_setting_permission_to_export,
            "edit_setting_grid_charging": self.edit_setting_grid_charging,
            "edit_setting_energy_exports": self.edit_setting_energy_exports,
            "batteries": [],
            "gateways": [],
            "wall_connectors": [],
        }

    def site_info(self, now: datetime) -> dict[str, Any]:
        """The body of ``site_info`` (inside ``response``)."""
        assert self.battery is not None
        return {
            "id": f"STE{self.energy_site_id % 10**8:08d}-00001",
            "site_name": self.site_name,
            "backup_reserve_percent": self.backup_reserve_percent,
            "default_real_mode": self.default_real_mode,
            "installation_date": "2023-08-01T10:00:00+10:00",
            "installation_time_zone": self.installation_time_zone,
            "user_settings": {"storm_mode_enabled": False, "sync_grid_alert_enabled": True},
            "components": self.components(),
            "version": self.version,
            "battery_count": self.battery_count,
            "nameplate_power": round(self.battery.max_power_w),
            "nameplate_energy": round(self.battery.capacity_wh),
            "utility": "Amber Electric",
            "tariff_content": tariff_v1(self.current_tariff(now)),
            "tariff_content_v2": readback(self.current_tariff(now)),
            "max_site_meter_power_ac": 1_000_000_000,
            "min_site_meter_power_ac": -1_000_000_000,
            "vpp_backup_reserve_percent": 0,
        }

    def exports_off(self) -> bool:
        """``components.non_export_configured``: the site may not export, by installer lock
        (the ``non_export_configured`` setting) or because the export rule is ``never``."""
        return self.non_export_configured or self.customer_preferred_export_rule == "never"

    @property
    def serial_number(self) -> str:
        """The gateway's serial number (``calendar_history``)."""
        return f"TG{self.energy_site_id % 10**12:012d}"

    def recorded(self, now: datetime) -> SiteHistory:
        """The step records, simulated up to ``now``."""
        assert self.battery is not None
        self.battery.advance(now, self._inputs(now))
        return self.battery.history

    def history(self, kind: str, params: dict[str, str | None], now: datetime) -> dict[str, Any]:
        """``calendar_history`` of ``kind`` (``energy``, ``power``, ``soe``); raises
        ``HistoryRequestError`` for a request Tesla answers with 400."""
        history = self.recorded(now)
        w = window(params, self.installation_time_zone, now)
        build = {"energy": energy_body, "power": power_body, "soe": soe_body}[kind]
        return build(history, w, self.serial_number, self.installation_time_zone)

    def live_status(self, now: datetime) -> dict[str, Any]:
        """The body of ``live_status``."""
        assert self.battery is not None
        return self.battery.live_status(now, self._inputs(now))

    def product(self, now: datetime) -> dict[str, Any]:
        """This site's entry in ``GET /products``."""
        assert self.battery is not None
        self.battery.advance(now, self._inputs(now))
        return {
            "energy_site_id": self.energy_site_id,
            "resource_type": "battery",
            "site_name": self.site_name,
            "id": f"STE{self.energy_site_id % 10**8:08d}-00001",
            "gateway_id": f"1232100-00-E--TG{self.energy_site_id % 10**12:012d}",
            "asset_site_id": f"{self.energy_site_id:032x}"[-32:],
            "warp_site_number": f"STE{self.energy_site_id % 10**8:08d}-00001",
            "energy_left": round(self.battery.soc_wh, 2),
            "total_pack_energy": round(self.battery.capacity_wh),
            "percentage_charged": round(self.battery.soc_percent, 4),
            "battery_type": "ac_powerwall",
            "backup_capable": True,
            "battery_power": round(self.battery.flows(now, self._inputs(now)).battery),
            "breaker_alert_enabled": False,
            "go_off_grid_test_banner_enabled": None,
            "storm_mode_enabled": False,
            "powerwall_onboarding_settings_set": True,
            "powerwall_tesla_electric_interested_in": None,
            "sync_grid_alert_enabled": True,
            "components": {
                "battery": True,
                "battery_type": "ac_powerwall",
                "solar": True,
                "solar_type": "pv_panel",
                "grid": True,
                "load_meter": True,
                "market_type": "residential",
                "wall_connectors": [],
            },
            "features": {"rate_plan_manager_no_pricing_constraint": True},
        }

    # -- commands ----------------------------------------------------------------------------

    def _refused(self) -> CommandResult | None:
        if self.refuse_commands is not None:
            return CommandResult(False, self.refuse_commands)
        return None

    def set_operation(self, body: Any, now: datetime) -> CommandResult:
        """``POST operation``."""
        mode = body.get("default_real_mode") if isinstance(body, dict) else None
        if mode not in MODES:
            return CommandResult(False, bad_request=f"default_real_mode must be one of {MODES}")
        refused = self._refused()
        if refused is not None:
            return refused
        self._settle(now)
        self.default_real_mode = str(mode)
        return CommandResult(True)

    def set_backup(self, body: Any, now: datetime) -> CommandResult:
        """``POST backup``; since firmware 25.18.4 81-99 % snap down to 80 %."""
        value = body.get("backup_reserve_percent") if isinstance(body, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 100:
            return CommandResult(False, bad_request="backup_reserve_percent must be 0-100")
        refused = self._refused()
        if refused is not None:
            return refused
        self._settle(now)
        self.backup_reserve_percent = 80 if 80 < value < 100 else value
        return CommandResult(True)

    def set_grid_import_export(self, body: Any, now: datetime) -> CommandResult:
        """``POST grid_import_export``."""
        if not isinstance(body, dict):
            return CommandResult(False, bad_request="body must be a JSON object")
        rule = body.get("customer_preferred_export_rule")
        no_grid = body.get("disallow_charge_from_grid_with_solar_installed")
        if rule is None and no_grid is None:
            return CommandResult(False, bad_request="nothing to change")
        if rule is not None and rule not in EXPORT_RULES:
            return CommandResult(False, bad_request=f"export rule must be one of {EXPORT_RULES}")
        if no_grid is not None and not isinstance(no_grid, bool):
            return CommandResult(
                False,
                bad_request="disallow_charge_from_grid_with_solar_installed must be a boolean",
            )
        refused = self._refused()
        if refused is not None:
            return refused
        if rule is not None and (
            self.non_export_configured
            or not self.edit_setting_permission_to_export
            or not self.edit_setting_energy_exports
        ):
            return CommandResult(False, "export settings cannot be changed on this site")
        if no_grid is not None and not self.edit_setting_grid_charging:
            return CommandResult(False, "grid charging setting cannot be changed on this site")
        self._settle(now)
        if rule is not None:
            self.customer_preferred_export_rule = str(rule)
        if no_grid is not None:
            self.disallow_charge_from_grid_with_solar_installed = no_grid
        return CommandResult(True)

    def post_tou(self, body: Any, now: datetime) -> tuple[CommandResult, list[str]]:
        """``POST time_of_use_settings``: store (or wipe) and record the problems found."""
        post = interpret_tou_post(body)
        if post.action == "reject":
            self._record(now, body, list(post.problems), "reject")
            return CommandResult(False, bad_request=post.problems[0]), list(post.problems)
        refused = self._refused()
        if refused is None and not self.tou_capable:
            refused = CommandResult(False, "site is not capable of time-of-use control")
        if refused is not None:
            self._record(now, body, list(post.problems), "refused")
            return refused, list(post.problems)
        self._settle(now)
        if post.strategy in ("economics", "balanced"):
            self.optimization_strategy = post.strategy
        if post.action == "wipe":
            self._apply({}, now)
        elif post.action == "store":
            self._apply(normalise(post.tariff or {}), now)
        self._record(now, body, list(post.problems), post.action)
        return CommandResult(True), list(post.problems)

    def set_tariff(self, tariff: Any, now: datetime) -> None:
        """Store a tariff directly (as the Tesla app or a retailer would)."""
        self._settle(now)
        self.pending_tariff = None
        self._store(normalise(tariff) if isinstance(tariff, dict) else tariff)

    def _apply(self, tariff: Any, now: datetime) -> None:
        if self.tariff_apply_delay > 0:
            self.pending_tariff = (now + timedelta(seconds=self.tariff_apply_delay), tariff)
        else:
            self.pending_tariff = None
            self._store(tariff)

    def _record(self, now: datetime, body: Any, problems: list[str], action: str) -> None:
        self.tou_posts.append(
            {
                "at": now.isoformat(),
                "action": action,
                "problems": problems,
                "body": copy.deepcopy(body),
            }
        )

    def _settle(self, now: datetime) -> None:
        """Integrate the battery up to now under the old settings before changing them."""
        assert self.battery is not None
        self.battery.advance(now, self._inputs(now))

    def settings(self) -> dict[str, Any]:
        """The editable settings (for the control API)."""
        return {
            "site_name": self.site_name,
            "installation_time_zone": self.installation_time_zone,
            "default_real_mode": self.default_real_mode,
            "backup_reserve_percent": self.backup_reserve_percent,
            "customer_preferred_export_rule": self.customer_preferred_export_rule,
            "disallow_charge_from_grid_with_solar_installed": (
                self.disallow_charge_from_grid_with_solar_installed
            ),
            "non_export_configured": self.non_export_configured,
            "tou_capable": self.tou_capable,
            "edit_setting_permission_to_export": self.edit_setting_permission_to_export,
            "edit_setting_grid_charging": self.edit_setting_grid_charging,
            "edit_setting_energy_exports": self.edit_setting_energy_exports,
            "optimization_strategy": self.optimization_strategy,
            "version": self.version,
            "battery_count": self.battery_count,
            "refuse_commands": self.refuse_commands,
            "tariff_apply_delay": self.tariff_apply_delay,
        }

    def update(self, changes: dict[str, Any], now: datetime) -> list[str]:
        """Change settings from the control API; returns the names that were not recognised."""
        unknown: list[str] = []
        self._settle(now)
        for name, value in changes.items():
            if name == "tariff_content_v2":
                self.set_tariff(value, now)
            elif name == "soc_percent":
                assert self.battery is not None
                self.battery.set_soc(float(value))
            elif name in self.settings():
                setattr(self, name, value)
                if name == "installation_time_zone" and self.battery is not None:
                    self.battery.time_zone = str(value)
            else:
                unknown.append(name)
        return unknown

    def validation_problems(self) -> list[str]:
        """Problems of the most recent ``time_of_use_settings`` POST (empty if none)."""
        return list(self.tou_posts[-1]["problems"]) if self.tou_posts else []

    def check_stored(self) -> list[str]:
        """Validation problems of the tariff currently stored."""
        return validate(self.tariff) if self.tariff else ["no rate plan stored"]

"""A simple simulated Powerwall site: solar by time of day, household load, a battery that follows
the operation mode, the reserve, the export rule, grid charging and (in ``autonomous``) the stored
tariff.

Power in watts, energy in watt-hours. ``battery_power`` > 0 means discharging, ``grid_power`` > 0
importing; ``grid_power = load - solar - battery_power``.

What the battery does, in this order (a simplified model of a Powerwall):

1. **Below the backup reserve** (any mode but ``backup``) it refills to the reserve and never
   discharges: from the grid at full power where grid charging is allowed, else from surplus
   solar only.
2. **``backup``**: it charges to full, from the grid where allowed, else from surplus solar.
3. **``self_consumption``**: surplus solar charges it; otherwise it covers the load, down to the
   reserve (a reserve at the present charge level stops it discharging).
4. **``autonomous``** (Time-Based Control) starts from self-consumption and follows the stored
   tariff's price in the present half-hour:
   - it charges from the grid at full power (grid charging allowed) when the buy price is 0 or
     less, or among the cheapest: within 10 % of the week's range above its lowest buy price,
     unless the present half-hour carries a demand charge (it avoids importing there);
   - it exports at full power (down to the reserve) when the export rule is ``battery_ok`` and
     the sell price beats the buy price of every later half-hour of the next 24 hours (energy
     sold now can be bought back for less).
5. The export rule caps it: with ``pv_only`` or ``never`` the battery covers at most the load
   (it never exports); with ``never`` solar is curtailed to what the house and battery take.

Not modelled: charge and discharge rates below full power (10 kW) or tapering near full,
round-trip losses, the Powerwall's forecasts of solar and load (it plans only from the price
now and the prices of the next 24 hours), storm watch, grid outages, off-grid, VPP events, and
the minutes a Powerwall takes to act on a change (the sandbox acts at the next step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.sandbox.noise import smooth, uniform
from amber_tesla_sync.sandbox.site_history import SiteHistory, StepRecord, step_index, step_start
from amber_tesla_sync.sandbox.tariff_lookup import TariffLookup

STEP = timedelta(minutes=5)
MAX_STEPS = 7 * 288
PREROLL = timedelta(days=7)
"""History simulated before the first moment the site is looked at (``calendar_history``, Amber
``/usage`` of the days before the sandbox started)."""


@dataclass(frozen=True)
class BatteryInputs:
    """Settings that steer the battery."""

    mode: str
    reserve_percent: float
    export_rule: str
    grid_charging_allowed: bool
    tariff: TariffLookup


@dataclass(frozen=True)
class Flows:
    """Instantaneous power flows (W)."""

    solar: float
    load: float
    battery: float
    grid: float


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


class BatterySim:
    """State of charge integrated over sandbox time in 5-minute steps."""

    def __init__(
        self,
        seed: int,
        time_zone: str,
        *,
        capacity_wh: float = 27_000.0,
        max_power_w: float = 10_000.0,
        solar_peak_w: float = 8_000.0,
        soc_percent: float = 60.0,
    ) -> None:
        self.seed = seed
        self.time_zone = time_zone
        self.capacity_wh = capacity_wh
        self.max_power_w = max_power_w
        self.solar_peak_w = solar_peak_w
        self.soc_wh = capacity_wh * soc_percent / 100.0
        self.history = SiteHistory()
        self._last: datetime | None = None

    def set_soc(self, percent: float) -> None:
        """Set the state of charge."""
        self.soc_wh = self.capacity_wh * min(100.0, max(0.0, percent)) / 100.0

    @property
    def soc_percent(self) -> float:
        """State of charge in percent."""
        return 100.0 * self.soc_wh / self.capacity_wh

    def solar(self, t: datetime) -> float:
        """Solar generation at ``t``."""
        local = t.astimezone(ZoneInfo(self.time_zone))
        hour = local.hour + local.minute / 60.0
        if not 6.0 <= hour <= 19.0:
            return 0.0
        season = 0.8 + 0.2 * math.cos(2.0 * math.pi * (local.month - 1) / 12.0)
        cloud = 0.3 + 0.7 * uniform(self.seed, "cloud", local.date().isoformat())
        flicker = 0.85 + 0.15 * math.tanh(smooth(self.seed, t.timestamp() / 1800.0, "flicker"))
        shape: float = max(0.0, math.sin(math.pi * (hour - 6.0) / 13.0)) ** 1.2
        return max(0.0, self.solar_peak_w * season * cloud * flicker * shape)

    def load(self, t: datetime) -> float:
        """Household load at ``t``."""
        local = t.astimezone(ZoneInfo(self.time_zone))
        hour = local.hour + local.minute / 60.0
        base = 350.0 + 900.0 * _bump(hour, 7.5, 1.0) + 1800.0 * _bump(hour, 19.0, 2.0)
        return max(150.0, base + 250.0 * smooth(self.seed, t.timestamp() / 900.0, "load"))

    def flows(self, t: datetime, inputs: BatteryInputs) -> Flows:
        """Power flows at ``t`` for the current state of charge (the rules in the module's
        docstring)."""
        solar = self.solar(t)
        load = self.load(t)
        hours = STEP.total_seconds() / 3600.0
        reserve_wh = self.capacity_wh * inputs.reserve_percent / 100.0
        max_charge = min(self.max_power_w, (self.capacity_wh - self.soc_wh) / hours)
        max_discharge = min(self.max_power_w, max(0.0, self.soc_wh - reserve_wh) / hours)
        solar_charge = min(max_charge, max(0.0, solar - load))
        if inputs.mode != "backup" and self.soc_wh < reserve_wh - 1e-6:
            to_reserve = min(max_charge, (reserve_wh - self.soc_wh) / hours)
            battery = -(to_reserve if inputs.grid_charging_allowed else solar_charge)
        elif inputs.mode == "backup":
            battery = -(max_charge if inputs.grid_charging_allowed else solar_charge)
        else:
            battery = -solar_charge if solar > load else min(max_discharge, load - solar)
            if inputs.mode == "autonomous":
                battery = self._price_driven(t, inputs, battery, max_charge, max_discharge)
        if inputs.export_rule != "battery_ok" and battery > 0:
            battery = min(battery, max(0.0, load - solar))
        if inputs.export_rule == "never":
            solar = min(solar, load - battery) if load - battery > 0 else 0.0
        grid = load - solar - battery
        return Flows(solar, load, battery, grid)

    def _price_driven(
        self,
        t: datetime,
        inputs: BatteryInputs,
        battery: float,
        max_charge: float,
        max_discharge: float,
    ) -> float:
        extremes = inputs.tariff.extremes()
        if extremes is None:
            return battery
        local = t.astimezone(ZoneInfo(self.time_zone))
        buy, sell = inputs.tariff.prices(local)
        min_buy, max_buy, _, _ = extremes
        cheap = buy is not None and (
            buy <= 0 or (max_buy > min_buy and buy <= min_buy + 0.1 * (max_buy - min_buy))
        )
        if cheap and inputs.grid_charging_allowed and not inputs.tariff.demand(local):
            return -max_charge
        if sell is not None and sell > 0 and inputs.export_rule == "battery_ok":
            later = inputs.tariff.dearest_after(local)
            if later is not None and sell > later:
                return max_discharge
        return battery

    def advance(self, now: datetime, inputs: BatteryInputs) -> None:
        """Integrate the state of charge up to ``now`` in 5-minute steps aligned to the clock,
        recording each step. The first call simulates the :data:`PREROLL` before ``now`` too."""
        if self._last is None:
            self._preroll(now, inputs)  # simulates up to the step holding now
            return
        if now < self._last:
            self._last = step_start(step_index(now))
            self.history.forget_from(step_index(now))
            return
        if now - self._last > STEP * MAX_STEPS:
            self._last = step_start(step_index(now - STEP * MAX_STEPS))
        self._run(now, inputs)

    def _run(self, now: datetime, inputs: BatteryInputs) -> None:
        assert self._last is not None
        while self._last + STEP <= now:
            flows = self.flows(self._last, inputs)
            record = StepRecord(
                flows.solar, flows.load, flows.battery, flows.grid, self.soc_percent
            )
            self.history.record(step_index(self._last), record)
            self.soc_wh -= flows.battery * STEP.total_seconds() / 3600.0
            self.soc_wh = min(self.capacity_wh, max(0.0, self.soc_wh))
            self._last += STEP

    def _preroll(self, now: datetime, inputs: BatteryInputs) -> None:
        """Simulate (and record) the :data:`PREROLL` before the first look, then start the present
        at the configured state of charge: history is a plausible past, not a constraint on it."""
        soc_wh = self.soc_wh
        self._last = step_start(step_index(now)) - PREROLL
        self._run(step_start(step_index(now)), inputs)
        self.soc_wh = soc_wh

    def live_status(self, now: datetime, inputs: BatteryInputs) -> dict[str, Any]:
        """The body of ``live_status`` at ``now``."""
        self.advance(now, inputs)
        flows = self.flows(now, inputs)
        return {
            "solar_power": round(flows.solar),
            "energy_left": round(self.soc_wh, 2),
            "total_pack_energy": round(self.capacity_wh),
            "percentage_charged": round(self.soc_percent, 4),
            "battery_power": round(flows.battery),
            "load_power": round(flows.load),
            "grid_status": "Active",
            "grid_services_active": False,
            "grid_power": round(flows.grid),
            "grid_services_power": 0,
            "generator_power": 0,
            "island_status": "on_grid",
            "storm_mode_active": False,
            "backup_capable": True,
            "timestamp": now.astimezone(ZoneInfo(self.time_zone)).isoformat(timespec="seconds"),
            "wall_connectors": [],
        }

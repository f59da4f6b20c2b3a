"""Meter readings of the Amber sites, per 5-minute step (Wh): what ``/usage`` reports.

The 5-minute site is the Powerwall's home: its readings are the grid flows of the energy site's
simulation (the same split as ``calendar_history``, so both agree to the watt-hour). The other
sites are homes without a battery: household load and solar of their own, and on a
controlled-load channel an off-peak hot-water heater (2.4 kW, 00:00-03:00 local time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from amber_tesla_sync.sandbox.amber_sites import AmberSite
from amber_tesla_sync.sandbox.battery import BatterySim
from amber_tesla_sync.sandbox.energy_history import split_step
from amber_tesla_sync.sandbox.site_history import SiteHistory, step_index, step_start

STEP_HOURS = 5 / 60
HOT_WATER_W = 2400.0
HOT_WATER_HOURS = range(3)


@dataclass(frozen=True)
class Reading:
    """Energy through the meter in one 5-minute step (Wh)."""

    imported: int
    exported: int
    controlled: int = 0


def reading_of_split(parts: dict[str, int]) -> Reading:
    """Import and export of a ``calendar_history`` split."""
    return Reading(
        parts["battery_energy_imported_from_grid"] + parts["consumer_energy_imported_from_grid"],
        parts["grid_energy_exported_from_solar"] + parts["grid_energy_exported_from_battery"],
    )


class Meters:
    """Readings per Amber site."""

    def __init__(
        self,
        seed: int,
        powerwall_site: str,
        powerwall_history: Callable[[datetime], SiteHistory],
    ) -> None:
        self._seed = seed
        self._powerwall_site = powerwall_site
        self._powerwall_history = powerwall_history
        self._homes: dict[str, BatterySim] = {}

    def readings(
        self, site: AmberSite, start: datetime, end: datetime, now: datetime
    ) -> dict[int, Reading]:
        """Readings of the steps starting in ``[start, min(end, now))`` (by step index)."""
        end = min(end, now)
        if site.id == self._powerwall_site:
            history = self._powerwall_history(now)
            return {i: reading_of_split(split_step(s)) for i, s in history.between(start, end)}
        home = self._homes.get(site.id)
        if home is None:
            home = BatterySim(
                self._seed + 1 + len(self._homes), site.time_zone, solar_peak_w=5000.0
            )
            self._homes[site.id] = home
        has_hot_water = "controlledLoad" in site.channel_types()
        zone = ZoneInfo(site.time_zone)
        out: dict[int, Reading] = {}
        index = step_index(start) + (1 if step_start(step_index(start)) < start else 0)
        while step_start(index) + timedelta(minutes=5) <= end:
            t = step_start(index)
            net_wh = (home.load(t) - home.solar(t)) * STEP_HOURS
            heater = has_hot_water and t.astimezone(zone).hour in HOT_WATER_HOURS
            out[index] = Reading(
                round(max(0.0, net_wh)),
                round(max(0.0, -net_wh)),
                round(HOT_WATER_W * STEP_HOURS) if heater else 0,
            )
            index += 1
        return out

"""Tesla's energy history (``calendar_history``, kind ``energy``) as typed rows.

Each row is one bucket (5 minutes in today's bodies) starting at ``start``, in Wh, every value
≥ 0 with the direction in the name. Keys that are absent count as 0 (recent bodies leave out the
``total_*`` keys when they are zero); ``time_series: null`` is an empty day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from amber_tesla_sync.errors import DataError

BUCKET = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class EnergyRow:
    """One bucket of the Powerwall site's energy flows, Wh."""

    start: dt.datetime  # aware, UTC
    solar: float
    home: float
    grid_import: float
    grid_export: float
    battery_charge_grid: float
    battery_charge_solar: float
    battery_discharge: float
    battery_to_home: float
    battery_to_grid: float

    @property
    def battery_charge(self) -> float:
        return self.battery_charge_grid + self.battery_charge_solar


def _number(row: dict[str, Any], key: str) -> float:
    value = row.get(key, 0)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} is not a number ({value!r})")
    if value < 0:
        raise ValueError(f"{key} is negative ({value!r})")
    return float(value)


def _row(row: Any) -> EnergyRow:
    if not isinstance(row, dict):
        raise ValueError("a row is not an object")
    stamp = row.get("timestamp")
    if not isinstance(stamp, str):
        raise ValueError("a row has no timestamp")
    start = dt.datetime.fromisoformat(stamp)
    if start.tzinfo is None:
        raise ValueError(f"timestamp {stamp!r} has no offset")
    home = sum(
        _number(row, f"consumer_energy_imported_from_{source}")
        for source in ("grid", "solar", "battery", "generator")
    )
    return EnergyRow(
        start=start.astimezone(dt.UTC),
        solar=_number(row, "solar_energy_exported"),
        home=home,
        grid_import=_number(row, "grid_energy_imported"),
        grid_export=_number(row, "grid_energy_exported_from_solar")
        + _number(row, "grid_energy_exported_from_battery")
        + _number(row, "grid_energy_exported_from_generator"),
        battery_charge_grid=_number(row, "battery_energy_imported_from_grid"),
        battery_charge_solar=_number(row, "battery_energy_imported_from_solar"),
        battery_discharge=_number(row, "battery_energy_exported"),
        battery_to_home=_number(row, "consumer_energy_imported_from_battery"),
        battery_to_grid=_number(row, "grid_energy_exported_from_battery"),
    )


def parse_energy_history(body: Any, source: str = "Tesla's energy history") -> list[EnergyRow]:
    """The rows of a ``calendar_history`` (kind ``energy``) payload, in time order."""
    series = body.get("time_series") if isinstance(body, dict) else None
    if series is None:
        if isinstance(body, dict):
            return []
        raise DataError(
            f"{source} is not an energy history (expected an object with time_series)",
            "try again later; if this persists, the Tesla API has changed",
        )
    if not isinstance(series, list):
        raise DataError(
            f"{source}: time_series is not a list",
            "try again later; if this persists, the Tesla API has changed",
        )
    try:
        rows = [_row(row) for row in series]
    except ValueError as error:
        raise DataError(
            f"{source} has a malformed row: {error}",
            "try again later; if this persists, the Tesla API has changed",
        ) from None
    return sorted(rows, key=lambda row: row.start)

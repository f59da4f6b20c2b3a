"""``calendar_history`` and ``telemetry_history`` bodies built from the site's step records (pure).

Energy rows follow Tesla's 2024 shape: Wh per bucket as integers, every flow split by source and
destination, ``raw_timestamp`` equal to ``timestamp`` (the bucket start, site-local with offset),
and the ``total_*`` keys present only when non-zero. Solar serves the home first, then the
battery, then the grid; the battery serves the home before it exports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from amber_tesla_sync.sandbox.site_history import SiteHistory, StepRecord, step_start

PERIODS = ("day", "week", "month", "year", "lifetime")
ENERGY_KEYS = (
    "solar_energy_exported",
    "generator_energy_exported",
    "grid_energy_imported",
    "grid_services_energy_imported",
    "grid_services_energy_exported",
    "grid_energy_exported_from_solar",
    "grid_energy_exported_from_generator",
    "grid_energy_exported_from_battery",
    "battery_energy_exported",
    "battery_energy_imported_from_grid",
    "battery_energy_imported_from_solar",
    "battery_energy_imported_from_generator",
    "consumer_energy_imported_from_grid",
    "consumer_energy_imported_from_solar",
    "consumer_energy_imported_from_battery",
    "consumer_energy_imported_from_generator",
)
TOTALS = (
    ("total_home_usage", "consumer_energy_imported_from_"),
    ("total_solar_generation", "solar_energy_exported"),
    ("total_battery_charge", "battery_energy_imported_from_"),
    ("total_battery_discharge", "battery_energy_exported"),
    ("total_grid_energy_exported", "grid_energy_exported_from_"),
)


class HistoryRequestError(ValueError):
    """A request Tesla answers with 400."""


def split_step(step: StepRecord) -> dict[str, int]:
    """One step's energy (Wh, rounded) by source and destination."""
    solar, load = step.wh(step.solar), step.wh(step.load)
    charge, discharge = step.wh(max(0.0, -step.battery)), step.wh(max(0.0, step.battery))
    home_solar = min(solar, load)
    battery_solar = min(solar - home_solar, charge)
    grid_solar = max(0.0, solar - home_solar - battery_solar)
    home_battery = min(discharge, load - home_solar)
    parts = {
        "grid_energy_exported_from_solar": grid_solar,
        "grid_energy_exported_from_battery": max(0.0, discharge - home_battery),
        "battery_energy_imported_from_grid": max(0.0, charge - battery_solar),
        "battery_energy_imported_from_solar": battery_solar,
        "consumer_energy_imported_from_grid": max(0.0, load - home_solar - home_battery),
        "consumer_energy_imported_from_solar": home_solar,
        "consumer_energy_imported_from_battery": home_battery,
    }
    return {key: round(value) for key, value in parts.items()}


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def energy_row(timestamp: str, parts: dict[str, int]) -> dict[str, Any]:
    """A ``kind=energy`` row from summed parts (totals derived, so the sums always hold)."""
    p = {key: parts.get(key, 0) for key in ENERGY_KEYS}
    p["solar_energy_exported"] = (
        p["grid_energy_exported_from_solar"]
        + p["battery_energy_imported_from_solar"]
        + p["consumer_energy_imported_from_solar"]
    )
    p["grid_energy_imported"] = (
        p["battery_energy_imported_from_grid"] + p["consumer_energy_imported_from_grid"]
    )
    p["battery_energy_exported"] = (
        p["consumer_energy_imported_from_battery"] + p["grid_energy_exported_from_battery"]
    )
    row: dict[str, Any] = {"timestamp": timestamp, **p, "raw_timestamp": timestamp}
    for name, prefix in TOTALS:
        value = sum(v for k, v in p.items() if k.startswith(prefix))
        if value:
            row[name] = value
    return row


@dataclass(frozen=True)
class HistoryWindow:
    """The local-time window and bucket size of a request."""

    zone: ZoneInfo
    start: datetime
    end: datetime
    period: str


def _parse_time(text: str | None, zone: ZoneInfo, name: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HistoryRequestError(f"{name} must be an RFC 3339 time") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(zone)


def _period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    if period == "lifetime":
        return date(2000, 1, 1)
    return day


def window(params: dict[str, str | None], site_zone: str, now: datetime) -> HistoryWindow:
    """Resolve ``period``, ``start_date``, ``end_date`` and ``time_zone`` (site zone by default).

    Without ``start_date`` the window starts at the beginning of the period that holds the end;
    without ``end_date`` it ends now."""
    period = params.get("period") or "day"
    if period not in PERIODS:
        raise HistoryRequestError(f"period must be one of {', '.join(PERIODS)}")
    try:
        zone = ZoneInfo(params.get("time_zone") or site_zone)
    except (ValueError, KeyError) as exc:
        raise HistoryRequestError("time_zone is not an IANA time zone") from exc
    end = _parse_time(params.get("end_date"), zone, "end_date") or now.astimezone(zone)
    start = _parse_time(params.get("start_date"), zone, "start_date")
    if start is None:
        first = _period_start(end.date(), period)
        start = datetime(first.year, first.month, first.day, tzinfo=zone)
    if start > end:
        raise HistoryRequestError("start_date must not be after end_date")
    return HistoryWindow(zone, start, min(end, now), period)


def _bucket_key(local: datetime, period: str) -> datetime:
    """The bucket's start, in UTC (so the repeated hour of a DST change stays two hours)."""
    if period == "day":
        return local.astimezone(UTC)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        day = day.replace(day=1)
    elif period == "lifetime":
        day = day.replace(month=1, day=1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=local.tzinfo)
    return midnight.astimezone(UTC)


def _buckets(
    steps: Iterable[tuple[int, StepRecord]], w: HistoryWindow
) -> dict[datetime, list[StepRecord]]:
    grouped: dict[datetime, list[StepRecord]] = {}
    for index, step in steps:
        local = step_start(index).astimezone(w.zone)
        grouped.setdefault(_bucket_key(local, w.period), []).append(step)
    return grouped


def _stamp(local: datetime) -> str:
    return local.isoformat(timespec="seconds")


def energy_body(
    history: SiteHistory, w: HistoryWindow, serial: str, site_zone: str
) -> dict[str, Any]:
    """``calendar_history?kind=energy``."""
    rows = []
    for key, steps in _buckets(history.between(w.start, w.end), w).items():
        total: dict[str, int] = {}
        for step in steps:
            _add(total, split_step(step))
        rows.append(energy_row(_stamp(key.astimezone(w.zone)), total))
    return {
        "serial_number": serial,
        "period": w.period,
        "installation_time_zone": site_zone,
        "time_series": rows,
    }


def power_body(history: SiteHistory, w: HistoryWindow, serial: str, zone: str) -> dict[str, Any]:
    """``calendar_history?kind=power``: mean W per 5-minute step (grid > 0 importing)."""
    rows = [
        {
            "timestamp": _stamp(step_start(i).astimezone(w.zone)),
            "solar_power": round(s.solar),
            "battery_power": round(s.battery),
            "grid_power": round(s.grid),
            "grid_services_power": 0,
            "generator_power": 0,
        }
        for i, s in history.between(w.start, w.end)
    ]
    return {"serial_number": serial, "installation_time_zone": zone, "time_series": rows}


def soe_body(history: SiteHistory, w: HistoryWindow, serial: str, zone: str) -> dict[str, Any]:
    """``calendar_history?kind=soe``: state of energy (integer %) every 15 minutes."""
    rows = [
        {"timestamp": _stamp(step_start(i).astimezone(w.zone)), "soe": round(s.soc_percent)}
        for i, s in history.between(w.start, w.end)
        if step_start(i).minute % 15 == 0
    ]
    return {"serial_number": serial, "installation_time_zone": zone, "time_series": rows}

"""The legacy v1 ``tariff_content`` that ``site_info`` carries beside ``tariff_content_v2``.

v1 is v2 without the wrappers: ``energy_charges``/``demand_charges`` map a season straight to
``{label: price}`` (no ``rates``) and ``tou_periods`` map a label straight to a list of periods (no
``periods``); there is no ``version``. Built from the v2 read-back, so both always agree.
"""

from __future__ import annotations

from typing import Any

from amber_tesla_sync.sandbox.tariff_readback import readback


def _charges(charges: Any) -> Any:
    if not isinstance(charges, dict):
        return charges
    return {
        season: (entry["rates"] if isinstance(entry, dict) and "rates" in entry else entry)
        for season, entry in charges.items()
    }


def _seasons(seasons: Any) -> Any:
    if not isinstance(seasons, dict):
        return seasons
    flat: dict[str, Any] = {}
    for name, season in seasons.items():
        flat[name] = season
        if isinstance(season, dict) and isinstance(season.get("tou_periods"), dict):
            flat[name] = {
                **season,
                "tou_periods": {
                    label: (
                        entry["periods"] if isinstance(entry, dict) and "periods" in entry else []
                    )
                    for label, entry in season["tou_periods"].items()
                },
            }
    return flat


def _flatten(tariff: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tariff.items():
        if key == "version":
            continue
        if key in ("energy_charges", "demand_charges"):
            flat[key] = _charges(value)
        elif key == "seasons":
            flat[key] = _seasons(value)
        elif key == "sell_tariff" and isinstance(value, dict):
            flat[key] = _flatten(value)
        else:
            flat[key] = value
    return flat


def tariff_v1(stored: Any) -> Any:
    """The v1 form of a stored tariff (``{}`` when no plan is stored)."""
    shown = readback(stored)
    return _flatten(shown) if isinstance(shown, dict) else {}

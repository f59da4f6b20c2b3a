"""The typed Tesla answers read what the tool reads, and tolerate what it always tolerated."""

from __future__ import annotations

from typing import Any

import pytest

from amber_tesla_sync.tesla.models import LiveStatus, Product, SiteInfo


def test_site_info_reads_the_fields_and_keeps_the_answer() -> None:
    answer: dict[str, Any] = {
        "default_real_mode": "autonomous",
        "installation_time_zone": "Australia/Sydney",
        "backup_reserve_percent": 20,
        "tariff_content_v2": {"code": "X"},
        "tou_settings": {"optimization_strategy": "economics"},
        "components": {
            "customer_preferred_export_rule": "battery_ok",
            "tou_capable": True,
            "disallow_charge_from_grid_with_solar_installed": False,
            "something_new": 1,
        },
        "something_else": [1, 2],
    }
    site = SiteInfo.parse(answer)
    assert (site.mode, site.time_zone, site.strategy, site.export_rule) == (
        "autonomous",
        "Australia/Sydney",
        "economics",
        "battery_ok",
    )
    assert site.backup_reserve == 20 and isinstance(site.backup_reserve, int)
    assert site.tariff == {"code": "X"} and site.tou_capable
    assert site.components.grid_charging_disallowed is False
    assert site.raw is answer


@pytest.mark.parametrize("answer", [None, [], "text", {}, {"components": "x", "tou_settings": 3}])
def test_site_info_missing_or_malformed_reads_as_unknown(answer: Any) -> None:
    site = SiteInfo.parse(answer)
    assert (site.mode, site.time_zone, site.strategy, site.export_rule, site.tariff) == (None,) * 5
    assert site.backup_reserve is None and site.tou_capable  # only an explicit false says no
    assert site.components.grid_charging_disallowed is None


def test_site_info_wrong_types_read_as_unknown() -> None:
    site = SiteInfo.parse(
        {
            "default_real_mode": 3,
            "backup_reserve_percent": True,
            "tariff_content_v2": [],
            "components": {"tou_capable": "false", "customer_preferred_export_rule": None},
        }
    )
    assert site.mode is None and site.backup_reserve is None and site.tariff is None
    assert site.tou_capable and site.export_rule is None
    assert not SiteInfo.parse({"components": {"tou_capable": False}}).tou_capable


def test_live_status_readings() -> None:
    live = LiveStatus.parse({"percentage_charged": 55, "grid_power": -1200.5, "load_power": "x"})
    assert live.percentage_charged == 55.0 and live.grid_power == -1200.5
    assert live.load_power is None and live.solar_power is None and live.battery_power is None
    assert LiveStatus.parse("not an object").raw == {}


def test_products() -> None:
    assert Product.parse({"energy_site_id": 7, "site_name": "Home"}).energy_site_id == 7
    odd = Product.parse({"energy_site_id": "7", "site_name": 0, "resource_type": 5})
    assert (odd.energy_site_id, odd.site_name, odd.resource_type) == (None, None, "5")

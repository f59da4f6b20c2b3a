"""``site_info``: the v1 ``tariff_content`` beside v2, and ``non_export_configured``."""

from __future__ import annotations

from typing import Any

import httpx

from amber_tesla_sync.sandbox import Sandbox

from .helpers import bearer


def site_url(sandbox: Sandbox, operation: str) -> str:
    return f"{sandbox.fleet_na_base_url}/api/1/energy_sites/{sandbox.energy_site_id}/{operation}"


def info(http: httpx.Client, sandbox: Sandbox, token: str) -> dict[str, Any]:
    body: dict[str, Any] = http.get(site_url(sandbox, "site_info"), headers=bearer(token)).json()
    return body["response"]


def export_rule(http: httpx.Client, sandbox: Sandbox, token: str, rule: str) -> dict[str, Any]:
    response = http.post(
        site_url(sandbox, "grid_import_export"),
        headers=bearer(token),
        json={"customer_preferred_export_rule": rule},
    )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()["response"]
    return result


def test_non_export_configured_follows_the_rule_never(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    assert info(http, sandbox, user_token)["components"]["non_export_configured"] is False
    assert export_rule(http, sandbox, user_token, "never")["result"] is True
    assert info(http, sandbox, user_token)["components"]["non_export_configured"] is True
    assert export_rule(http, sandbox, user_token, "pv_only")["result"] is True  # not a lock
    components = info(http, sandbox, user_token)["components"]
    assert components["non_export_configured"] is False
    assert components["customer_preferred_export_rule"] == "pv_only"


def test_an_installer_non_export_lock_refuses_changes(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.set_energy_site(non_export_configured=True)
    assert info(http, sandbox, user_token)["components"]["non_export_configured"] is True
    refused = export_rule(http, sandbox, user_token, "battery_ok")
    assert refused["result"] is False and "cannot be changed" in refused["reason"]


def test_v1_tariff_content_mirrors_v2(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    body = info(http, sandbox, user_token)
    v1, v2 = body["tariff_content"], body["tariff_content_v2"]
    assert list(body).index("tariff_content") < list(body).index("tariff_content_v2")
    assert "version" in v2 and "version" not in v1
    assert v1["code"] == v2["code"] and v1["name"] == v2["name"]
    assert v1["energy_charges"]["Summer"] == v2["energy_charges"]["Summer"]["rates"]
    assert v1["demand_charges"]["ALL"] == {"ALL": 0}
    periods = v2["seasons"]["Summer"]["tou_periods"]
    assert v1["seasons"]["Summer"]["tou_periods"] == {k: e["periods"] for k, e in periods.items()}
    assert (
        v1["sell_tariff"]["energy_charges"]["Summer"]
        == (v2["sell_tariff"]["energy_charges"]["Summer"]["rates"])
    )
    wiped = http.post(
        site_url(sandbox, "time_of_use_settings"),
        headers=bearer(user_token),
        json={"tou_settings": {}},
    )
    assert wiped.status_code == 200
    after = info(http, sandbox, user_token)
    assert after["tariff_content"] == {} and after["tariff_content_v2"] == {}

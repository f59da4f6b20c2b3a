"""The Fleet API regional hosts of the sandbox: auth, regions, registration, energy endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from amber_tesla_sync.sandbox import Sandbox

from .helpers import bearer, login, partner_token


def _pem() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    ).hex()
    return pem, point


def _get(
    http: httpx.Client, sb: Sandbox, token: str, path: str, region: str = "na"
) -> httpx.Response:
    return http.get(f"{sb.fleet_base_url(region)}{path}", headers=bearer(token))


def _post(http: httpx.Client, sb: Sandbox, token: str, path: str, body: Any) -> httpx.Response:
    return http.post(f"{sb.fleet_na_base_url}{path}", headers=bearer(token), json=body)


def _site(sb: Sandbox, op: str) -> str:
    return f"/api/1/energy_sites/{sb.energy_site_id}/{op}"


def test_wrong_region_gives_421_with_the_right_base_url(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    response = _get(http, sandbox, user_token, _site(sandbox, "site_info"), region="eu")
    assert response.status_code == 421
    body = response.json()
    assert set(body) == {"response", "error", "error_description"}
    assert body["response"] is None
    assert body["error"].startswith("user out of region, use base URL: ")
    assert f"use base URL: {sandbox.fleet_na_base_url}," in body["error"]


def test_users_region_answers_on_any_host(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.register_partner("eu")
    for region in ("na", "eu"):
        response = _get(http, sandbox, user_token, "/api/1/users/region", region=region)
        assert response.status_code == 200
        assert response.json()["response"] == {
            "region": "na",
            "fleet_api_base_url": sandbox.fleet_na_base_url,
        }


def test_412_until_the_partner_account_is_registered(http: httpx.Client, sandbox: Sandbox) -> None:
    token = login(http, sandbox)["access_token"]
    response = _get(http, sandbox, token, "/api/1/products")
    assert response.status_code == 412
    error = response.json()["error"]
    assert f"Account {sandbox.credentials.client_id} must be registered" in error
    assert f"in the current region {sandbox.fleet_na_base_url}" in error
    sandbox.register_partner("na")
    assert _get(http, sandbox, token, "/api/1/products").status_code == 200
    sandbox.unregister_partner("na")
    assert _get(http, sandbox, token, "/api/1/products").status_code == 412


def test_partner_registration_with_the_hosted_key(http: httpx.Client, sandbox: Sandbox) -> None:
    pem, point = _pem()
    partner = partner_token(http, sandbox)
    domain = sandbox.credentials.allowed_domain
    url = f"{sandbox.fleet_na_base_url}/api/1/partner_accounts"
    not_hosted = http.post(url, headers=bearer(partner), json={"domain": domain})
    assert not_hosted.status_code == 400
    assert "Public key download failed" in not_hosted.json()["error"]
    sandbox.host_public_key(domain, pem)
    wrong_domain = http.post(url, headers=bearer(partner), json={"domain": "example.org"})
    assert wrong_domain.status_code == 400
    registered = http.post(url, headers=bearer(partner), json={"domain": domain})
    assert registered.status_code == 200, registered.text
    assert registered.json()["response"]["public_key"] == point
    key = http.get(f"{url}/public_key", params={"domain": domain}, headers=bearer(partner))
    assert key.json() == {"response": {"public_key": point}}
    user = login(http, sandbox)["access_token"]
    assert _get(http, sandbox, user, "/api/1/products").status_code == 200
    # A user token may not register, a partner token may not read user data.
    assert http.post(url, headers=bearer(user), json={"domain": domain}).status_code == 403
    assert _get(http, sandbox, partner, _site(sandbox, "site_info")).status_code == 403
    assert _get(http, sandbox, partner, "/api/1/products").json() == {"response": [], "count": 0}


def test_registration_reads_the_key_file(tmp_path: Any) -> None:
    pem, point = _pem()
    key_file = tmp_path / "public-key.pem"
    key_file.write_text(pem)
    with Sandbox(seed=3, public_key_file=key_file) as sb, httpx.Client() as http:
        partner = partner_token(http, sb)
        url = f"{sb.fleet_na_base_url}/api/1/partner_accounts"
        other = http.post(url, headers=bearer(partner), json={"domain": "other.example"})
        assert other.status_code == 400
        # Any host under the allowed origin's root domain is accepted (Tesla's rule).
        domain = "www." + sb.credentials.allowed_domain
        response = http.post(url, headers=bearer(partner), json={"domain": domain})
        assert response.json()["response"]["public_key"] == point


def test_unknown_and_missing_tokens_are_401(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.register_partner()
    url = f"{sandbox.fleet_na_base_url}/api/1/products"
    for headers in ({}, bearer("not-a-token"), bearer("a.b.c")):
        response = http.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["response"] is None


def test_missing_scopes_are_403(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.register_partner()
    token = login(http, sandbox, scope="openid offline_access energy_device_data")["access_token"]
    assert _get(http, sandbox, token, _site(sandbox, "site_info")).status_code == 200
    response = _post(
        http, sandbox, token, _site(sandbox, "operation"), {"default_real_mode": "backup"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "Unauthorized missing scopes"
    reader = login(http, sandbox, scope="openid user_data")["access_token"]
    assert _get(http, sandbox, reader, _site(sandbox, "live_status")).status_code == 403


def test_billing_disabled_is_402(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    sandbox.set_switches(billing_disabled=True)
    response = _get(http, sandbox, user_token, "/api/1/products")
    assert response.status_code == 402
    assert response.json()["response"] is None
    sandbox.set_switches(billing_disabled=False)
    assert _get(http, sandbox, user_token, "/api/1/products").status_code == 200


def test_products_and_site_info(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    products = _get(http, sandbox, user_token, "/api/1/products").json()
    assert products["count"] == 1
    (site,) = products["response"]
    assert site["energy_site_id"] == sandbox.energy_site_id
    assert site["resource_type"] == "battery"
    info = _get(http, sandbox, user_token, _site(sandbox, "site_info")).json()["response"]
    assert info["installation_time_zone"] == "Australia/Sydney"
    assert info["default_real_mode"] == "autonomous"
    assert info["backup_reserve_percent"] == 20
    assert info["battery_count"] == 2 and info["version"]
    components = info["components"]
    assert components["tou_capable"] is True
    assert components["customer_preferred_export_rule"] == "battery_ok"
    assert components["disallow_charge_from_grid_with_solar_installed"] is False
    for flag in ("permission_to_export", "grid_charging", "energy_exports"):
        assert components[f"edit_setting_{flag}"] is True
    tariff = info["tariff_content_v2"]
    assert tariff["code"] == "SANDBOX_ENERGY:TOU"  # the retailer's plan, not ours
    assert tariff["seasons"]["Winter"] == {}
    unknown = _get(http, sandbox, user_token, "/api/1/energy_sites/123/site_info")
    assert unknown.status_code == 404


def test_live_status_follows_a_simulated_battery(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    def status() -> dict[str, Any]:
        response: dict[str, Any] = _get(
            http, sandbox, user_token, _site(sandbox, "live_status")
        ).json()["response"]
        return response

    sandbox.set_energy_site(default_real_mode="self_consumption", soc_percent=30)
    sandbox.set_time(datetime(2025, 1, 15, 1, 0, tzinfo=UTC))  # 12:00 in Sydney
    noon = status()
    assert noon["solar_power"] > 0
    for s in (noon,):
        assert s["grid_power"] == pytest.approx(
            s["load_power"] - s["solar_power"] - s["battery_power"], abs=2
        )
    sandbox.advance(timedelta(hours=3))
    later = status()
    assert later["percentage_charged"] != noon["percentage_charged"]
    sandbox.set_time(datetime(2025, 1, 14, 14, 0, tzinfo=UTC))  # 01:00 in Sydney
    night = status()
    assert night["solar_power"] == 0
    assert night["battery_power"] >= 0  # covering the load from the battery
    assert night["timestamp"].endswith("+11:00")


def test_commands(http: httpx.Client, sandbox: Sandbox, user_token: str) -> None:
    ok = {"response": {"result": True, "reason": ""}}
    op = _post(
        http,
        sandbox,
        user_token,
        _site(sandbox, "operation"),
        {"default_real_mode": "self_consumption"},
    )
    assert op.json() == ok
    assert sandbox.energy_site_settings()["default_real_mode"] == "self_consumption"
    bad = _post(
        http, sandbox, user_token, _site(sandbox, "operation"), {"default_real_mode": "max"}
    )
    assert bad.status_code == 400 and bad.json()["response"] is None
    backup = _post(
        http, sandbox, user_token, _site(sandbox, "backup"), {"backup_reserve_percent": 85}
    )
    assert backup.json() == ok
    assert sandbox.energy_site_settings()["backup_reserve_percent"] == 80  # 81-99 not honoured
    _post(http, sandbox, user_token, _site(sandbox, "backup"), {"backup_reserve_percent": 100})
    assert sandbox.energy_site_settings()["backup_reserve_percent"] == 100
    rule = {
        "customer_preferred_export_rule": "pv_only",
        "disallow_charge_from_grid_with_solar_installed": True,
    }
    assert _post(http, sandbox, user_token, _site(sandbox, "grid_import_export"), rule).json() == ok
    settings = sandbox.energy_site_settings()
    assert settings["customer_preferred_export_rule"] == "pv_only"
    assert settings["disallow_charge_from_grid_with_solar_installed"] is True


def test_refused_commands_answer_result_false(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.set_energy_site(edit_setting_permission_to_export=False)
    body = {"customer_preferred_export_rule": "never"}
    response = _post(http, sandbox, user_token, _site(sandbox, "grid_import_export"), body)
    assert response.status_code == 200
    assert response.json()["response"]["result"] is False
    assert response.json()["response"]["reason"]
    assert sandbox.energy_site_settings()["customer_preferred_export_rule"] == "battery_ok"
    sandbox.set_switches(refuse_commands="gateway is busy")
    op = _post(
        http, sandbox, user_token, _site(sandbox, "operation"), {"default_real_mode": "backup"}
    )
    assert op.json() == {"response": {"result": False, "reason": "gateway is busy"}}


def test_requests_are_counted_for_billing(
    http: httpx.Client, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.clear_requests()
    for _ in range(3):
        _get(http, sandbox, user_token, _site(sandbox, "site_info"))
    _post(http, sandbox, user_token, _site(sandbox, "backup"), {"backup_reserve_percent": 30})
    _get(http, sandbox, user_token, _site(sandbox, "site_info"), region="eu")  # 421, billed
    counts = sandbox.request_counts()
    assert counts["fleet_billing"] == {"data_requests": 4, "command_requests": 1, "usd": 0.009}
    assert counts["by_category"]["fleet:data"] == 4
    assert counts["by_token_kind"]["user"] == 5
    path = f"GET /fleet/na{_site(sandbox, 'site_info')}"
    assert counts["by_path"][path] == 3
    entries = sandbox.requests()
    assert all("Bearer" not in str(e) and user_token not in str(e) for e in entries)

"""Teslemetry in the sandbox: static token, metadata, energy paths, rate limit."""

from __future__ import annotations

import httpx

from amber_tesla_sync.sandbox import Sandbox

from .helpers import bearer, slot_tariff


def test_token_errors(http: httpx.Client, sandbox: Sandbox) -> None:
    url = f"{sandbox.teslemetry_base_url}/api/1/products"
    missing = http.get(url)
    assert missing.status_code == 401
    assert missing.json() == {
        "response": None,
        "error": "missing_token",
        "error_description": missing.json()["error_description"],
    }
    invalid = http.get(url, headers=bearer("nope"))
    assert invalid.status_code == 401 and invalid.json()["error"] == "invalid_token"
    by_query = http.get(url, params={"token": sandbox.credentials.teslemetry_token})
    assert by_query.status_code == 200


def test_ping_test_and_metadata(http: httpx.Client, sandbox: Sandbox) -> None:
    base = sandbox.teslemetry_base_url
    token = bearer(sandbox.credentials.teslemetry_token)
    assert http.get(f"{base}/api/ping").json() == {"response": True}
    assert http.get(f"{base}/api/test").status_code == 401
    assert http.get(f"{base}/api/test", headers=token).json() == {"response": True}
    meta = http.get(f"{base}/api/metadata", headers=token).json()
    assert meta["region"] == "NA" and meta["uid"]
    assert {"energy_device_data", "energy_cmds"} <= set(meta["scopes"])
    assert meta["energy_sites"] == {
        str(sandbox.energy_site_id): {"name": "Sandbox Home", "access": True}
    }


def test_same_energy_paths_without_partner_registration(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    base = f"{sandbox.teslemetry_base_url}/api/1/energy_sites/{sandbox.energy_site_id}"
    token = bearer(sandbox.credentials.teslemetry_token)
    info = http.get(f"{base}/site_info", headers=token)
    assert info.status_code == 200
    assert info.json()["response"]["installation_time_zone"] == "Australia/Sydney"
    body = {
        "tou_settings": {"optimization_strategy": "economics", "tariff_content_v2": slot_tariff()}
    }
    pushed = http.post(f"{base}/time_of_use_settings", headers=token, json=body)
    assert pushed.status_code == 200
    assert sandbox.stored_tariff()["code"] == "AMBER_TESLA_SYNC:TEST"
    live = http.get(f"{base}/live_status", headers=token).json()["response"]
    assert "percentage_charged" in live
    counts = sandbox.request_counts()
    assert counts["by_service"]["teslemetry"] == 3
    assert counts["fleet_billing"]["data_requests"] == 0  # Teslemetry calls are not Fleet-billed


def test_missing_scope_and_subscription(http: httpx.Client, sandbox: Sandbox) -> None:
    base = f"{sandbox.teslemetry_base_url}/api/1/energy_sites/{sandbox.energy_site_id}"
    token = bearer(sandbox.credentials.teslemetry_token)
    sandbox.set_switches(teslemetry_scopes=["openid", "energy_device_data"])
    op = http.post(f"{base}/operation", headers=token, json={"default_real_mode": "backup"})
    assert op.status_code == 403 and op.json()["error"] == "Unauthorized missing scopes"
    sandbox.set_switches(teslemetry_subscription_active=False)
    assert http.get(f"{base}/site_info", headers=token).status_code == 402


def test_rate_limit_30_per_minute(http: httpx.Client, sandbox: Sandbox) -> None:
    url = f"{sandbox.teslemetry_base_url}/api/test"
    token = bearer(sandbox.credentials.teslemetry_token)
    statuses = [http.get(url, headers=token).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]
    limited = http.get(url, headers=token)
    assert limited.json()["response"] is None and int(limited.headers["Retry-After"]) >= 1
    sandbox.advance(61)
    assert http.get(url, headers=token).status_code == 200

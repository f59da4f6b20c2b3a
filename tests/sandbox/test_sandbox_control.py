"""The control API under /_sandbox and the Python object's own controls."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from amber_tesla_sync.sandbox import Sandbox, SandboxClock

from .helpers import bearer, login


def test_info_lists_urls_credentials_and_ids(http: httpx.Client, sandbox: Sandbox) -> None:
    info = http.get(f"{sandbox.control_base_url}/info").json()
    assert info["urls"]["amber"] == sandbox.amber_base_url
    assert info["urls"]["fleet_na"] == sandbox.fleet_na_base_url
    assert info["credentials"]["amber_token"] == sandbox.credentials.amber_token
    assert info["credentials"]["redirect_uri"] == "http://localhost:58585/callback"
    assert info["amber_site_ids"] == sandbox.amber_site_ids
    assert info["energy_site_id"] == sandbox.energy_site_id
    assert sandbox.credentials.amber_token.startswith("psk_")
    assert len(sandbox.credentials.amber_token) == 36


def test_credentials_follow_the_seed_and_callback_port() -> None:
    a, b, c = Sandbox(seed=1), Sandbox(seed=1), Sandbox(seed=2, callback_port=60001)
    assert a.credentials == b.credentials
    assert a.credentials.client_secret != c.credentials.client_secret
    assert c.redirect_uri == "http://localhost:60001/callback"


def test_clock_control(http: httpx.Client, sandbox: Sandbox) -> None:
    url = f"{sandbox.control_base_url}/clock"
    body = http.post(url, json={"now": "2025-07-01T00:00:00Z"}).json()
    assert body["frozen"] is True
    assert sandbox.now() == datetime(2025, 7, 1, tzinfo=UTC)
    http.post(url, json={"advance_seconds": 90})
    assert sandbox.now() == datetime(2025, 7, 1, 0, 1, 30, tzinfo=UTC)
    assert http.post(url, json={"now": "2025-07-01T00:00:00"}).status_code == 400
    http.post(url, json={"real_time": True})
    assert abs((sandbox.now() - datetime.now(UTC)).total_seconds()) < 5


def test_injected_clock_callable() -> None:
    fixed = datetime(2030, 1, 1, tzinfo=UTC)
    with Sandbox(clock=lambda: fixed) as sb:
        assert sb.now() == fixed
        sb.advance(60)
        assert (sb.now() - fixed).total_seconds() == 60
    clock = SandboxClock()
    clock.set(fixed, running=True)
    assert abs((clock.now() - fixed).total_seconds()) < 5


def test_energy_site_and_switches(http: httpx.Client, sandbox: Sandbox) -> None:
    base = sandbox.control_base_url
    changed = http.post(f"{base}/energy_site", json={"default_real_mode": "backup"}).json()
    assert changed["default_real_mode"] == "backup"
    assert http.post(f"{base}/energy_site", json={"colour": "red"}).status_code == 400
    switches = http.post(f"{base}/switches", json={"billing_disabled": True}).json()
    assert switches["billing_disabled"] is True
    assert http.post(f"{base}/switches", json={"nonsense": 1}).status_code == 400
    state = http.get(f"{base}/state").json()
    assert state["energy_site"]["settings"]["default_real_mode"] == "backup"
    assert state["fleet"]["billing_disabled"] is True
    assert "tariff_content_v2" in state["energy_site"]


def test_partner_and_tokens_control(http: httpx.Client, sandbox: Sandbox) -> None:
    base = sandbox.control_base_url
    token = login(http, sandbox)["access_token"]
    products = f"{sandbox.fleet_na_base_url}/api/1/products"
    assert http.get(products, headers=bearer(token)).status_code == 412
    http.post(f"{base}/partner", json={"region": "na", "registered": True})
    assert http.get(products, headers=bearer(token)).status_code == 200
    expired = http.post(f"{base}/tokens", json={"expire_access_tokens": True}).json()
    assert expired["expired_access_tokens"] == 1
    assert http.get(products, headers=bearer(token)).status_code == 401
    http.post(f"{base}/partner", json={"region": "na", "registered": False})
    assert "na" not in http.get(f"{base}/partner").json()["registrations"]
    summary = http.get(f"{base}/tokens").json()
    assert summary["refresh_chains"] == 1
    assert all(len(f) == 12 for f in summary["valid_refresh_token_fingerprints"])


def test_request_log_and_counts(http: httpx.Client, sandbox: Sandbox, amber: httpx.Client) -> None:
    amber.get("/sites")
    http.get(f"{sandbox.amber_base_url}/sites")
    log = http.get(f"{sandbox.control_base_url}/requests").json()
    assert [e["status"] for e in log["entries"]] == [200, 401]
    assert log["counts"]["by_token_kind"] == {"amber": 1, "none": 1}
    assert log["entries"][0]["at"] == sandbox.now().isoformat()
    http.delete(f"{sandbox.control_base_url}/requests")
    assert sandbox.request_counts()["total"] == 0
    assert http.get(f"{sandbox.control_base_url}/nothing").status_code == 400


def test_unknown_paths(http: httpx.Client, sandbox: Sandbox) -> None:
    assert http.get(f"{sandbox.base_url}/nowhere").status_code == 404
    assert http.get(f"{sandbox.base_url}/").json()["urls"]["amber"] == sandbox.amber_base_url
    assert http.get(f"{sandbox.base_url}/amber/v2/sites").status_code == 403


def test_listens_on_loopback_only(sandbox: Sandbox) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.port > 0
    assert sandbox.app.base_url == sandbox.base_url

"""Tesla's OAuth server in the sandbox: authorize with PKCE, code exchange, rotation, partner."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest

from amber_tesla_sync.sandbox import Sandbox

from .helpers import (
    authorize,
    bearer,
    callback_params,
    exchange,
    login,
    partner_token,
    pkce_pair,
    refresh,
)


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def test_code_flow_with_pkce(http: httpx.Client, sandbox: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    response = authorize(http, sandbox, challenge=challenge, state="abc")
    assert response.headers["location"].startswith(sandbox.redirect_uri + "?")
    params = callback_params(response)
    assert params["state"] == "abc"
    assert params["code"].startswith("NA_")
    token = exchange(http, sandbox, params["code"], verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 28800
    assert body["refresh_token"].startswith("NA_")
    claims = _claims(body["access_token"])
    assert claims["scp"] == ["openid", "offline_access", "energy_device_data", "energy_cmds"]
    assert claims["ou_code"] == "NA"
    assert claims["aud"][0] == sandbox.fleet_na_base_url
    assert claims["exp"] - claims["iat"] == 28800
    assert "id_token" in body


def test_bad_verifier_is_rejected(http: httpx.Client, sandbox: Sandbox) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    response = exchange(http, sandbox, code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    missing = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    assert exchange(http, sandbox, missing, None).json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_gets_an_error_page(http: httpx.Client, sandbox: Sandbox) -> None:
    _, challenge = pkce_pair()
    for uri in ("http://localhost:1/callback", sandbox.redirect_uri + "/", "http://evil.example/"):
        response = authorize(http, sandbox, challenge=challenge, redirect_uri=uri)
        assert response.status_code == 400
        assert "We don't recognize this redirect_uri" in response.text
        assert "location" not in response.headers
    bad_client = http.get(
        sandbox.authorize_url,
        params={"client_id": "nope", "redirect_uri": sandbox.redirect_uri, "state": "s"},
    )
    assert bad_client.status_code == 400


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"scope": "energy_device_data"}, "invalid_scope"),
        ({"state": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorize_errors_redirect_back(
    http: httpx.Client, sandbox: Sandbox, change: dict[str, str], error: str
) -> None:
    _, challenge = pkce_pair()
    response = authorize(http, sandbox, challenge=challenge, extra=change)
    params = callback_params(response)
    assert params["error"] == error
    assert "code" not in params


def test_pkce_is_required_of_public_clients_only(http: httpx.Client, sandbox: Sandbox) -> None:
    # a confidential client (with its secret) may skip PKCE
    code = callback_params(authorize(http, sandbox))["code"]
    assert exchange(http, sandbox, code, None).status_code == 200
    # a public client (no secret) without PKCE is refused
    code = callback_params(authorize(http, sandbox))["code"]
    public = exchange(http, sandbox, code, None, client_secret="")
    form_without_secret = {
        "grant_type": "authorization_code",
        "client_id": sandbox.credentials.client_id,
        "code": callback_params(authorize(http, sandbox))["code"],
        "redirect_uri": sandbox.redirect_uri,
        "audience": sandbox.fleet_na_base_url,
    }
    refused = http.post(sandbox.token_url, data=form_without_secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "PKCE" in refused.json()["error_description"]
    assert public.status_code == 401  # an empty secret is a wrong secret
    # a public client with PKCE is served
    verifier, challenge = pkce_pair()
    code = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    form_without_secret.update(code=code, code_verifier=verifier)
    served = http.post(sandbox.token_url, data=form_without_secret)
    assert served.status_code == 200 and served.json()["refresh_token"].startswith("NA_")
    # the switch demands PKCE of everyone
    sandbox.set_switches(require_pkce=True)
    assert callback_params(authorize(http, sandbox))["error"] == "invalid_request"


def test_code_is_single_use_short_lived_and_bound(http: httpx.Client, sandbox: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    code = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    assert exchange(http, sandbox, code, verifier).status_code == 200
    again = exchange(http, sandbox, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_auth_code"

    code = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    sandbox.advance(timedelta(minutes=6))
    assert exchange(http, sandbox, code, verifier).json()["error"] == "invalid_auth_code"

    code = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    wrong_uri = exchange(http, sandbox, code, verifier, redirect_uri="http://localhost:9/cb")
    assert wrong_uri.status_code == 400 and wrong_uri.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("override", "status", "error"),
    [
        ({"client_secret": "ta-secret.wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"audience": ""}, 400, "invalid_request"),
        ({"audience": "https://example.com"}, 400, "invalid_request"),
    ],
)
def test_code_exchange_checks_client_and_audience(
    http: httpx.Client, sandbox: Sandbox, override: dict[str, str], status: int, error: str
) -> None:
    verifier, challenge = pkce_pair()
    code = callback_params(authorize(http, sandbox, challenge=challenge))["code"]
    response = exchange(http, sandbox, code, verifier, **override)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_token_endpoint_wants_a_form(http: httpx.Client, sandbox: Sandbox) -> None:
    response = http.post(sandbox.token_url, json={"grant_type": "refresh_token"})
    assert response.status_code == 400
    unsupported = http.post(sandbox.token_url, data={"grant_type": "password"})
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_no_refresh_token_without_offline_access(http: httpx.Client, sandbox: Sandbox) -> None:
    body = login(http, sandbox, scope="openid energy_device_data")
    assert "refresh_token" not in body


def test_declined_scope_and_prompt_missing_scopes(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_switches(declined_scopes=["energy_cmds"])
    first = login(http, sandbox)
    assert "energy_cmds" not in _claims(first["access_token"])["scp"]
    verifier, challenge = pkce_pair()
    extra = {"prompt_missing_scopes": "true"}
    code = callback_params(authorize(http, sandbox, challenge=challenge, extra=extra))["code"]
    second = exchange(http, sandbox, code, verifier).json()
    assert "energy_cmds" in _claims(second["access_token"])["scp"]


def test_consent_denied(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_switches(deny_consent=True)
    _, challenge = pkce_pair()
    params = callback_params(authorize(http, sandbox, challenge=challenge, state="x"))
    assert params == {"error": "access_denied", "error_description": params["error_description"],
                      "state": "x"}  # fmt: skip


def test_refresh_rotates_and_each_token_is_single_use(http: httpx.Client, sandbox: Sandbox) -> None:
    first = login(http, sandbox)
    r0 = first["refresh_token"]
    second = refresh(http, sandbox, r0)
    assert second.status_code == 200
    r1 = second.json()["refresh_token"]
    assert r1 != r0 and second.json()["access_token"] != first["access_token"]
    third = refresh(http, sandbox, r1)
    r2 = third.json()["refresh_token"]
    # r0 is neither the newest nor the most recently used token any more.
    old = refresh(http, sandbox, r0)
    assert old.status_code == 401 and old.json()["error"] == "login_required"
    assert refresh(http, sandbox, r2).status_code == 200


def test_most_recently_used_refresh_token_has_24_hours_grace(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    r0 = login(http, sandbox)["refresh_token"]
    r1 = refresh(http, sandbox, r0).json()["refresh_token"]
    sandbox.advance(timedelta(hours=23))
    reuse = refresh(http, sandbox, r0)
    assert reuse.status_code == 200
    r1b = reuse.json()["refresh_token"]
    assert r1b not in (r0, r1)
    # The reuse replaced r1: only the newest pair continues the chain.
    assert refresh(http, sandbox, r1).json()["error"] == "login_required"
    sandbox.advance(timedelta(hours=1, seconds=1))
    expired = refresh(http, sandbox, r0)
    assert expired.status_code == 401 and expired.json()["error"] == "login_required"
    assert refresh(http, sandbox, r1b).status_code == 200


def test_refresh_tokens_lapse_after_three_months(http: httpx.Client, sandbox: Sandbox) -> None:
    r0 = login(http, sandbox)["refresh_token"]
    sandbox.advance(timedelta(days=91))
    assert refresh(http, sandbox, r0).json()["error"] == "login_required"


def test_concurrent_refreshes_leave_exactly_one_chain(sandbox: Sandbox) -> None:
    with httpx.Client(timeout=10) as client:
        r0 = login(client, sandbox)["refresh_token"]
    results: list[httpx.Response] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def worker() -> None:
        with httpx.Client(timeout=20) as client:
            barrier.wait()
            response = refresh(client, sandbox, r0)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 50  # first use + 49 grace reuses
    issued = {r.json()["refresh_token"] for r in results}
    assert len(issued) == 50
    valid = set(sandbox.valid_refresh_tokens())
    assert valid & issued and len(valid & issued) == 1  # exactly one new token lives on
    assert valid == (valid & issued) | {r0}
    (survivor,) = valid & issued
    with httpx.Client(timeout=10) as client:
        for token in issued - {survivor}:
            assert refresh(client, sandbox, token).json()["error"] == "login_required"
        nxt = refresh(client, sandbox, survivor)
        assert nxt.status_code == 200
        assert refresh(client, sandbox, nxt.json()["refresh_token"]).status_code == 200
    assert sandbox.state()["oauth"]["refresh_chains_live"] == 1


def test_serialised_refreshes_from_many_threads_keep_the_chain(sandbox: Sandbox) -> None:
    """Clients that serialise refreshes (as the CLI does with a file lock) never break it."""
    with httpx.Client(timeout=10) as client:
        holder = {"token": login(client, sandbox)["refresh_token"]}
    client_lock = threading.Lock()
    failures: list[int] = []

    def worker() -> None:
        with httpx.Client(timeout=20) as client:
            for _ in range(3):
                with client_lock:
                    response = refresh(client, sandbox, holder["token"])
                    if response.status_code != 200:
                        failures.append(response.status_code)
                        return
                    holder["token"] = response.json()["refresh_token"]

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert holder["token"] in sandbox.valid_refresh_tokens()


def test_access_tokens_expire_on_the_sandbox_clock(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.register_partner()
    sandbox.set_token_lifetime(60)
    body = login(http, sandbox)
    assert body["expires_in"] == 60
    url = f"{sandbox.fleet_na_base_url}/api/1/products"
    assert http.get(url, headers=bearer(body["access_token"])).status_code == 200
    sandbox.advance(61)
    expired = http.get(url, headers=bearer(body["access_token"]))
    assert expired.status_code == 401
    assert expired.json()["response"] is None
    fresh = refresh(http, sandbox, body["refresh_token"]).json()["access_token"]
    assert http.get(url, headers=bearer(fresh)).status_code == 200
    assert sandbox.expire_access_tokens() >= 1
    assert http.get(url, headers=bearer(fresh)).status_code == 401


def test_revoked_refresh_tokens_need_a_new_login(http: httpx.Client, sandbox: Sandbox) -> None:
    r0 = login(http, sandbox)["refresh_token"]
    sandbox.revoke_refresh_tokens()
    assert refresh(http, sandbox, r0).json()["error"] == "login_required"


def test_client_credentials_give_a_partner_token(http: httpx.Client, sandbox: Sandbox) -> None:
    token = partner_token(http, sandbox)
    claims = _claims(token)
    assert claims["sub"] == sandbox.credentials.client_id
    assert claims["token_kind"] == "partner"
    no_secret = http.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.credentials.client_id,
            "audience": sandbox.fleet_na_base_url,
        },
    )
    assert no_secret.status_code == 401


def test_openid_discovery(http: httpx.Client, sandbox: Sandbox) -> None:
    url = f"{sandbox.tesla_auth_base_url}/oauth2/v3/thirdparty/.well-known/openid-configuration"
    body = http.get(url).json()
    assert body["token_endpoint"] == sandbox.token_url
    assert body["authorization_endpoint"] == sandbox.authorize_url

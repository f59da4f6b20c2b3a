"""Helpers for the sandbox tests: PKCE, the browser side of the login flow, tariffs."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from amber_tesla_sync.sandbox import Sandbox

# Wednesday 2025-01-15 11:00:10 NEM time (12:00:10 in Sydney, AEDT).
T0 = datetime(2025, 1, 15, 1, 0, 10, tzinfo=UTC)
ENERGY_SCOPES = "openid offline_access energy_device_data energy_cmds"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    client: httpx.Client,
    sb: Sandbox,
    *,
    scope: str = ENERGY_SCOPES,
    challenge: str | None = None,
    state: str = "st-123",
    extra: dict[str, str] | None = None,
    redirect_uri: str | None = None,
) -> httpx.Response:
    """Play the browser: GET the authorize URL without following the redirect."""
    params = {
        "response_type": "code",
        "client_id": sb.credentials.client_id,
        "redirect_uri": redirect_uri or sb.redirect_uri,
        "scope": scope,
        "state": state,
    }
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    params.update(extra or {})
    return client.get(sb.authorize_url, params=params, follow_redirects=False)


def callback_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


def exchange(
    client: httpx.Client, sb: Sandbox, code: str, verifier: str | None, **overrides: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": sb.credentials.client_id,
        "client_secret": sb.credentials.client_secret,
        "code": code,
        "redirect_uri": sb.redirect_uri,
        "audience": sb.fleet_na_base_url,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    form.update(overrides)
    return client.post(sb.token_url, data=form)


def refresh(client: httpx.Client, sb: Sandbox, token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": sb.credentials.client_id,
        "refresh_token": token,
    }
    return client.post(sb.token_url, data=form)


def login(client: httpx.Client, sb: Sandbox, scope: str = ENERGY_SCOPES) -> dict[str, Any]:
    """The whole authorization-code flow with PKCE; returns the token response."""
    verifier, challenge = pkce_pair()
    params = callback_params(authorize(client, sb, scope=scope, challenge=challenge))
    response = exchange(client, sb, params["code"], verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def partner_token(client: httpx.Client, sb: Sandbox, region: str = "na") -> str:
    response = client.post(
        sb.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sb.credentials.client_id,
            "client_secret": sb.credentials.client_secret,
            "audience": sb.fleet_base_url(region),
            "scope": "openid",
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _period(start: int, end: int) -> dict[str, int]:
    return {
        "fromDayOfWeek": 0,
        "toDayOfWeek": 6,
        "fromHour": start // 60,
        "fromMinute": start % 60,
        "toHour": (end // 60) % 24,
        "toMinute": end % 60,
    }


def slot_tariff(
    buy: Callable[[int], float] = lambda n: 0.20 + 0.01 * n,
    sell: Callable[[int], float] = lambda n: 0.05,
) -> dict[str, Any]:
    """A valid 48-slot ``tariff_content_v2`` (``PERIOD_HH_MM`` labels, all six fields)."""
    labels = [f"PERIOD_{n // 2:02d}_{30 * (n % 2):02d}" for n in range(48)]
    periods = {lb: {"periods": [_period(30 * n, 30 * n + 30)]} for n, lb in enumerate(labels)}
    seasons = {
        "Summer": {
            "fromMonth": 1,
            "fromDay": 1,
            "toMonth": 12,
            "toDay": 31,
            "tou_periods": periods,
        },
        "Winter": {"fromMonth": 0, "fromDay": 0, "toMonth": 0, "toDay": 0, "tou_periods": {}},
    }
    zero = {"ALL": {"rates": {"ALL": 0}}, "Summer": {}, "Winter": {}}
    return {
        "version": 1,
        "code": "AMBER_TESLA_SYNC:TEST",
        "name": "Test plan",
        "utility": "Amber Electric",
        "currency": "AUD",
        "daily_charges": [{"name": "Charge", "amount": 0}],
        "demand_charges": zero,
        "energy_charges": {
            "ALL": {"rates": {"ALL": 0}},
            "Summer": {"rates": {lb: round(buy(n), 4) for n, lb in enumerate(labels)}},
            "Winter": {},
        },
        "seasons": seasons,
        "sell_tariff": {
            "name": "Test plan (export)",
            "utility": "Amber Electric",
            "daily_charges": [{"name": "Charge", "amount": 0}],
            "demand_charges": zero,
            "energy_charges": {
                "ALL": {"rates": {"ALL": 0}},
                "Summer": {"rates": {lb: round(sell(n), 4) for n, lb in enumerate(labels)}},
                "Winter": {},
            },
            "seasons": seasons,
        },
    }

"""Contract: the widely used Tesla client ``tesla-fleet-api`` does against the sandbox what it does
against Tesla and Teslemetry: OAuth (confidential client without PKCE, public client with PKCE,
refresh rotation, partner token), partner registration and public-key lookup, region and 421,
products, ``site_info``, ``live_status``, the time-of-use POST and its read-back, mode, reserve,
export and grid-charging settings, energy history, and Teslemetry's calls and errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from tesla_fleet_api import TeslaFleetApi, TeslaFleetOAuth, Teslemetry
from tesla_fleet_api.const import Scope
from tesla_fleet_api.exceptions import (
    Forbidden,
    InvalidRegion,
    InvalidRequest,
    InvalidTeslemetryToken,
    MissingTeslemetryToken,
    OAuthExpired,
    PreconditionFailed,
    RateLimited,
    SubscriptionRequired,
)

from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.tesla import keys
from contractkit import LoopbackSession, tesla_routes, to_sandbox
from sandbox.helpers import pkce_pair, slot_tariff

NOW = datetime(2025, 1, 15, 1, 7, 40, tzinfo=UTC)
SCOPES = [Scope.OPENID, Scope.OFFLINE_ACCESS, Scope.ENERGY_DEVICE_DATA, Scope.ENERGY_CMDS]
DOMAIN = "amber-tesla-sync.example"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=9, partner_registered=True) as sb:
        sb.set_time(NOW)
        yield sb


def run(sandbox: Sandbox, body: Callable[[LoopbackSession], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with LoopbackSession(tesla_routes(sandbox)) as session:
            return await body(session)

    return asyncio.run(main())


async def confidential_login(session: LoopbackSession, sandbox: Sandbox) -> TeslaFleetOAuth:
    """The library's own flow: login URL, the user's approval, code exchange with the secret."""
    c = sandbox.credentials
    oauth = TeslaFleetOAuth(session, "na", c.client_id, c.client_secret, c.redirect_uri)
    url = oauth.get_login_url(SCOPES, state="state-1")
    assert "code_challenge" not in url  # the library sends no PKCE
    code = sandbox.approve(to_sandbox(url, session.routes))
    oauth.server = sandbox.fleet_na_base_url  # the audience the token is for
    await oauth.get_refresh_token(code)
    assert oauth.refresh_token is not None, "the code exchange failed"
    return oauth


def test_confidential_client_logs_in_without_pkce_and_reads_the_site(sandbox: Sandbox) -> None:
    async def body(session: LoopbackSession) -> None:
        oauth = await confidential_login(session, sandbox)
        assert oauth.refresh_token and oauth.refresh_token.startswith("NA_")
        products = await oauth.products()
        assert products["count"] == 1
        site_id = products["response"][0]["energy_site_id"]
        assert site_id == sandbox.energy_site_id
        assert (await oauth.user.region())["response"]["region"] == "na"

    run(sandbox, body)


def test_refresh_rotation(sandbox: Sandbox) -> None:
    async def body(session: LoopbackSession) -> None:
        oauth = await confidential_login(session, sandbox)
        first = oauth.refresh_token
        oauth.expires = 0  # the library refreshes before the next call
        await oauth.products()
        second = oauth.refresh_token
        assert second and second != first
        await oauth.refresh_access_token()
        third = oauth.refresh_token
        assert third not in (first, second)
        # the most recently used token (second) is still accepted for 24 h; older ones are not
        assert set(sandbox.valid_refresh_tokens()) == {second, third}
        oauth.refresh_token = first
        with pytest.raises(ValueError, match="login_required"):
            await oauth.refresh_access_token()

    run(sandbox, body)


def test_public_client_with_pkce(sandbox: Sandbox) -> None:
    c = sandbox.credentials

    async def body(session: LoopbackSession) -> None:
        verifier, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": c.client_id,
            "redirect_uri": c.redirect_uri,
            "scope": " ".join(SCOPES),
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        form = {
            "grant_type": "authorization_code",
            "client_id": c.client_id,
            "redirect_uri": c.redirect_uri,
            "audience": sandbox.fleet_na_base_url,
        }
        token_url = "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token"
        # no secret and no PKCE: refused
        code = sandbox.approve(
            f"{sandbox.authorize_url}?{urlencode(dict(query, code_challenge=''))}"
        )
        async with session.post(token_url, data={**form, "code": code}) as resp:
            assert resp.status == 401 and (await resp.json())["error"] == "invalid_client"
        code = sandbox.approve(f"{sandbox.authorize_url}?{urlencode(query)}")
        data = {**form, "code": code, "code_verifier": verifier}
        async with session.post(token_url, data=data) as resp:
            assert resp.status == 200
            tokens = await resp.json()
        # the library refreshes a public client's tokens (no secret) and uses them
        oauth = TeslaFleetOAuth(
            session, "na", c.client_id, refresh_token=tokens["refresh_token"], expires=0
        )
        assert (await oauth.products())["count"] == 1
        assert oauth.refresh_token != tokens["refresh_token"]

    run(sandbox, body)


def test_partner_token_registration_and_public_key(sandbox: Sandbox) -> None:
    c = sandbox.credentials
    private = keys.generate_private_key_pem()
    public = keys.public_key_pem(private)

    async def body(session: LoopbackSession) -> None:
        api = TeslaFleetApi(session, server=sandbox.fleet_na_base_url)
        token = await api.partner_login(c.client_id, c.client_secret, [Scope.OPENID])
        assert token["token_type"] == "Bearer"
        with pytest.raises(InvalidRequest) as no_key:
            await api.partner.register(DOMAIN)
        assert "Public key download failed" in no_key.value.data["error"]
        sandbox.host_public_key(DOMAIN, public)
        registered = (await api.partner.register(DOMAIN))["response"]
        assert registered["domain"] == DOMAIN and registered["client_id"] == c.client_id
        looked_up = (await api.partner.public_key(DOMAIN))["response"]["public_key"]
        assert looked_up == registered["public_key"]
        assert bytes.fromhex(looked_up)[0] == 4 and len(bytes.fromhex(looked_up)) == 65

    run(sandbox, body)


def test_region_lookup_421_and_412(sandbox: Sandbox) -> None:
    async def body(session: LoopbackSession) -> None:
        oauth = await confidential_login(session, sandbox)
        token = oauth._access_token
        assert isinstance(token, str)
        api = TeslaFleetApi(session, access_token=token, region="na")
        assert await api.find_server() == "na"
        assert api.server == sandbox.fleet_na_base_url
        eu = TeslaFleetApi(session, access_token=token, server=sandbox.fleet_eu_base_url)
        with pytest.raises(InvalidRegion):
            await eu.products()
        sandbox.set_switches(user_region="eu")
        sandbox.register_partner("eu")
        found = TeslaFleetApi(session, access_token=token, region="na")
        assert await found.find_server() == "eu"
        assert found.server == sandbox.fleet_eu_base_url
        sandbox.unregister_partner("eu")
        with pytest.raises(PreconditionFailed):
            await found.products()

    run(sandbox, body)


def test_energy_site_reads_and_commands(sandbox: Sandbox) -> None:
    async def body(session: LoopbackSession) -> None:
        oauth = await confidential_login(session, sandbox)
        site = oauth.energySites.create(sandbox.energy_site_id)
        info = (await site.site_info())["response"]
        assert info["installation_time_zone"] == "Australia/Sydney"
        assert "tariff_content" in info and "tariff_content_v2" in info
        live = (await site.live_status())["response"]
        assert (
            live["load_power"] == live["solar_power"] + live["battery_power"] + live["grid_power"]
        )

        tariff = slot_tariff()
        ack = await site.time_of_use_settings(tariff)
        assert ack["response"]["code"] == 201
        back = (await site.site_info())["response"]
        assert back["tariff_content_v2"]["code"] == tariff["code"]
        assert (
            back["tariff_content_v2"]["energy_charges"]["Summer"]["rates"]
            == (tariff["energy_charges"]["Summer"]["rates"])
        )
        # v1 carries the same prices without the wrappers
        assert (
            back["tariff_content"]["energy_charges"]["Summer"]
            == (tariff["energy_charges"]["Summer"]["rates"])
        )
        assert sandbox.validation_problems() == []

        assert (await site.operation("self_consumption"))["response"]["result"] is True
        assert (await site.backup(35))["response"]["result"] is True
        assert (await site.grid_import_export(True, "never"))["response"]["result"] is True
        after = (await site.site_info())["response"]
        assert after["default_real_mode"] == "self_consumption"
        assert after["backup_reserve_percent"] == 35
        components = after["components"]
        assert components["customer_preferred_export_rule"] == "never"
        assert components["non_export_configured"] is True
        assert components["disallow_charge_from_grid_with_solar_installed"] is True
        assert (await site.grid_import_export(False, "battery_ok"))["response"]["result"] is True
        assert (await site.site_info())["response"]["components"]["non_export_configured"] is False

    run(sandbox, body)


def test_energy_history(sandbox: Sandbox) -> None:
    async def body(session: LoopbackSession) -> None:
        oauth = await confidential_login(session, sandbox)
        site = oauth.energySites.create(sandbox.energy_site_id)
        day = (
            await site.energy_history(
                "day", "2025-01-14T00:00:00+11:00", "2025-01-14T23:59:59+11:00", "Australia/Sydney"
            )
        )["response"]
        assert day["period"] == "day" and len(day["time_series"]) == 288
        first = day["time_series"][0]
        assert first["timestamp"] == "2025-01-14T00:00:00+11:00" == first["raw_timestamp"]
        for row in day["time_series"]:
            assert row["solar_energy_exported"] == (
                row["grid_energy_exported_from_solar"]
                + row["battery_energy_imported_from_solar"]
                + row["consumer_energy_imported_from_solar"]
            )
        week = (await site.energy_history("week", end_date="2025-01-14T23:59:59+11:00"))["response"]
        assert [r["timestamp"][:10] for r in week["time_series"]] == [
            "2025-01-12", "2025-01-13", "2025-01-14"
        ]  # fmt: skip
        day_total = sum(r["grid_energy_imported"] for r in day["time_series"])
        assert week["time_series"][-1]["grid_energy_imported"] == day_total
        charges = await site.charge_history(
            "2025-01-14T00:00:00+11:00", "2025-01-14T23:59:59+11:00"
        )
        assert charges["response"] == {"charge_history": []}

    run(sandbox, body)


def test_expired_token(sandbox: Sandbox) -> None:
    async def body(session: LoopbackSession) -> None:
        oauth = await confidential_login(session, sandbox)
        token = oauth._access_token
        assert isinstance(token, str)
        api = TeslaFleetApi(session, access_token=token, server=sandbox.fleet_na_base_url)
        sandbox.expire_access_tokens()
        with pytest.raises(OAuthExpired):
            await api.products()

    run(sandbox, body)


def test_teslemetry_calls(sandbox: Sandbox) -> None:
    token = sandbox.credentials.teslemetry_token

    async def body(session: LoopbackSession) -> None:
        api = Teslemetry(session, token, server=sandbox.teslemetry_base_url)
        assert (await api.ping())["response"] is True
        assert (await api.test())["response"] is True
        assert await api.find_server() == "na"  # moves to https://na.teslemetry.com
        assert str(sandbox.energy_site_id) in (await api.metadata(False))["energy_sites"]
        products = await api.products()
        site = api.energySites.create(products["response"][0]["energy_site_id"])
        assert (await site.site_info())["response"]["id"].startswith("STE")
        assert "grid_power" in (await site.live_status())["response"]
        assert (await site.time_of_use_settings(slot_tariff()))["response"]["code"] == 201
        assert (await site.backup(40))["response"]["result"] is True
        history = (await site.energy_history("day"))["response"]
        assert history["time_series"] and history["installation_time_zone"] == "Australia/Sydney"

    run(sandbox, body)


def test_teslemetry_errors(sandbox: Sandbox) -> None:
    token = sandbox.credentials.teslemetry_token

    async def body(session: LoopbackSession) -> None:
        url = sandbox.teslemetry_base_url
        with pytest.raises(MissingTeslemetryToken):
            await Teslemetry(session, "", server=url).products()
        with pytest.raises(InvalidTeslemetryToken):
            await Teslemetry(session, "wrong", server=url).products()
        api = Teslemetry(session, token, server=url)
        site = api.energySites.create(sandbox.energy_site_id)
        sandbox.set_switches(teslemetry_scopes=["openid", "energy_device_data"])
        with pytest.raises(Forbidden) as scopes:
            await site.operation("autonomous")
        assert scopes.value.data["error"] == Forbidden.key  # "Unauthorized missing scopes"
        sandbox.set_switches(teslemetry_subscription_active=False)
        with pytest.raises(SubscriptionRequired):
            await api.products()
        sandbox.set_switches(teslemetry_subscription_active=True)
        sandbox.set_teslemetry_rate_limit(1)
        with pytest.raises(RateLimited):
            for _ in range(3):
                await api.products()

    run(sandbox, body)

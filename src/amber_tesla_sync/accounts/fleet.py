"""Logging in to the Tesla Fleet API: OAuth with PKCE on a loopback callback (or a pasted
redirect), the token exchange, the account's region, then the energy site."""

from __future__ import annotations

import contextlib
import logging
import secrets
import webbrowser
from dataclasses import dataclass
from typing import Any

from amber_tesla_sync.accounts.energy_sites import pick_energy_site, remember_energy_site
from amber_tesla_sync.accounts.ui import LoginResult, Ui, require
from amber_tesla_sync.errors import AppError, AuthError, ConfigError, UsageError
from amber_tesla_sync.store.secrets import FLEET_CLIENT_SECRET, FLEET_TOKENS
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla.api import TeslaApi
from amber_tesla_sync.tesla.connection import NotRegistered
from amber_tesla_sync.tesla.hosts import check_region_url
from amber_tesla_sync.tesla.loopback import CallbackListener, PortBusy, Redirect, parse_pasted
from amber_tesla_sync.tesla.oauth import TokenEndpoint, authorize_url, new_pkce
from amber_tesla_sync.tesla.tokens import StaticToken

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetLoginOptions:
    client_id: str | None
    client_secret: str | None
    open_browser: bool
    paste: bool
    timeout: float
    site_id: int | None


def login_fleet(ctx: AppContext, options: FleetLoginOptions, ui: Ui) -> LoginResult:
    tesla = ctx.config.tesla
    client_id = options.client_id or tesla.client_id
    if not client_id:
        raise ConfigError(
            "no Fleet client id",
            "pass --client-id (from your app at developer.tesla.com); it is saved in the config",
        )
    found = None if options.client_secret else ctx.store.find(FLEET_CLIENT_SECRET)
    client_secret = options.client_secret or (found.value if found else None)
    if not client_secret:
        try:
            entered = ui.secret("Fleet client secret: ")
        except UsageError as error:  # no terminal: say how else to give it
            raise UsageError(
                error.message, "pipe it in with --client-secret-stdin, or set TESLA_CLIENT_SECRET"
            ) from None
        client_secret = require(entered, "client secret", "--client-secret-stdin")
    redirect = _authorize(ctx, client_id, options, ui)
    endpoint = TokenEndpoint(tesla.token_url, ctx.policy)
    code = redirect.code or ""
    tokens = endpoint.exchange_code(
        client_id, client_secret, code, redirect.verifier, tesla.redirect_uri, tesla.fleet_api_url
    )
    ctx.store.set(FLEET_TOKENS, tokens.to_json())  # saved before it is used
    if found is None or found.writable:  # an override (TESLA_CLIENT_SECRET, …) stays there
        ctx.store.set(FLEET_CLIENT_SECRET, client_secret)
    ctx.update({"tesla.client_id": client_id})
    region = _region(ctx, tokens.access_token)
    api = TeslaApi(ctx.fleet_connection())
    try:
        sites = api.energy_sites()
    except NotRegistered as error:
        raise NotRegistered(
            error.message,
            "the sign-in worked and the tokens are saved, but Tesla answers nothing else until "
            "the app is registered: run `amber-tesla-sync keygen` (once), serve the public key, "
            "run `amber-tesla-sync register --domain YOUR_DOMAIN`, then `amber-tesla-sync login "
            "fleet` again to pick the Powerwall",
        ) from None
    site = pick_energy_site(sites, options.site_id, ui)
    zone = remember_energy_site(ctx, api, site)
    return LoginResult(
        f"Tesla Fleet API: logged in (region {region.get('region', '?')}, "
        f"{ctx.config.tesla.fleet_api_url}); Powerwall site {site.id} ({site.name}, {zone}). "
        f"Tokens saved in {ctx.store.backend.description}."
    )


def _region(ctx: AppContext, access_token: str) -> dict[str, Any]:
    """Resolve the account's regional host (best effort: a 421 later also finds it)."""
    try:
        region = TeslaApi(ctx.fleet_connection(StaticToken(access_token))).region()
    except AppError as error:
        log.warning(
            "could not resolve the Fleet region (%s); keeping %s",
            error.message,
            ctx.config.tesla.fleet_api_url,
        )
        return {}
    base = region.get("fleet_api_base_url")
    current = ctx.config.tesla.fleet_api_url.rstrip("/")
    if isinstance(base, str) and base.rstrip("/") != current:
        try:
            base = check_region_url(base, (current,), "Tesla's region answer")
        except AppError as error:
            log.warning("%s; keeping %s", error.message, current)
            return {key: value for key, value in region.items() if key != "fleet_api_base_url"}
        ctx.update({"tesla.fleet_api_url": base})
    return region


@dataclass(frozen=True)
class _Authorized:
    code: str | None
    verifier: str


def _authorize(ctx: AppContext, client_id: str, options: FleetLoginOptions, ui: Ui) -> _Authorized:
    tesla = ctx.config.tesla
    state = secrets.token_urlsafe(24)
    pkce = new_pkce()
    url = authorize_url(
        tesla.authorize_url, client_id, tesla.redirect_uri, state, pkce, prompt_missing_scopes=True
    )
    redirect: Redirect | None
    listener: CallbackListener | None = None
    if not options.paste:
        try:
            listener = CallbackListener(tesla.redirect_uri, state)
        except PortBusy as busy:
            ui.say(
                f"Cannot listen for the redirect on port {busy.port} ({busy.reason}); "
                "paste the redirected URL instead."
            )
    try:
        ui.say("Open this URL to approve access (sign in with Tesla):")
        ui.say(url)
        if listener is None:
            ui.say(
                "After approving, the browser goes to a page that may not load: copy its whole "
                "address from the address bar."
            )
            redirect = parse_pasted(ui.text("Redirected URL: "), tesla.redirect_uri)
        else:
            if options.open_browser:
                with contextlib.suppress(webbrowser.Error):
                    webbrowser.open(url)
            with ui.waiting(f"Waiting for the approval (up to {options.timeout:.0f} s)…"):
                redirect = listener.wait(options.timeout)
            if redirect is None:
                raise AuthError(
                    f"no approval arrived within {options.timeout:.0f} s",
                    "run `amber-tesla-sync login fleet` again; if the browser cannot reach this "
                    "machine, use --paste",
                )
    finally:
        if listener is not None:
            listener.close()
    if redirect.error:
        raise AuthError(f"Tesla did not approve the login ({redirect.error})", "try again")
    if redirect.state != state:
        raise AuthError(
            "the approval's state does not match this login (it may be forged or stale); "
            "nothing was saved",
            "run `amber-tesla-sync login fleet` again and use the URL it prints",
        )
    if not redirect.code:
        raise AuthError("the redirect carried no authorization code", "try again")
    return _Authorized(redirect.code, pkce.verifier)

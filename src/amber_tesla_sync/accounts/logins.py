"""Logging in and out: Amber, Teslemetry and the Tesla Fleet API (OAuth on a loopback callback),
keys and partner registration. The terminal is reached only through the ``Ui`` given in."""

from __future__ import annotations

import contextlib
import logging
import secrets
import webbrowser
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from amber_tesla_sync.amber.client import AmberClient
from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Site
from amber_tesla_sync.errors import (
    AppError,
    AuthError,
    ConfigError,
    SecretsError,
    ServiceError,
    UsageError,
)
from amber_tesla_sync.store.secrets import (
    AMBER_TOKEN,
    FLEET_CLIENT_SECRET,
    FLEET_PRIVATE_KEY,
    FLEET_TOKENS,
    TESLEMETRY_TOKEN,
)
from amber_tesla_sync.store.state import AmberSiteState, EnergySiteState, load_state, save_state
from amber_tesla_sync.support.files import atomic_write_text
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla import keys
from amber_tesla_sync.tesla.api import EnergySite, TeslaApi
from amber_tesla_sync.tesla.connection import NotRegistered, Refused
from amber_tesla_sync.tesla.hosts import check_region_url
from amber_tesla_sync.tesla.loopback import CallbackListener, PortBusy, Redirect, parse_pasted
from amber_tesla_sync.tesla.oauth import TokenEndpoint, authorize_url, new_pkce
from amber_tesla_sync.tesla.tokens import StaticToken

log = logging.getLogger(__name__)
Service = Literal["amber", "teslemetry", "fleet", "all"]


class Ui(Protocol):
    def say(self, text: str) -> None: ...
    def secret(self, prompt: str) -> str: ...
    def text(self, prompt: str) -> str: ...
    def choose(self, title: str, options: Sequence[str]) -> int: ...
    def waiting(self, message: str) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class LoginResult:
    summary: str


# -- Amber ---------------------------------------------------------------------------------


def login_amber(ctx: AppContext, token: str, site_id: str | None, ui: Ui) -> LoginResult:
    token = _require(token, "Amber API token")
    with AmberClient(ctx.config.amber.base_url, token, ctx.policy) as client:
        sites = client.sites()
    site = _pick_amber_site(sites, site_id, ui)
    ctx.store.set(AMBER_TOKEN, token)
    ctx.update({"amber.site_id": site.id})
    state = load_state()
    state.amber_sites[site.id] = AmberSiteState(
        interval_length=site.interval_length,
        channels=sorted(site.channel_types & {GENERAL, FEED_IN}),
    )
    save_state(state)
    return LoginResult(
        f"Amber: logged in; site {site.id} (NMI {site.nmi or '?'}, {site.network or '?'}, "
        f"{site.interval_length}-minute billing). Token saved in {ctx.store.backend.description}."
    )


def _pick_amber_site(sites: list[Site], wanted: str | None, ui: Ui) -> Site:
    if wanted is not None:
        for site in sites:
            if wanted in (site.id, site.nmi):
                if site.status != "active":
                    log.warning("site %s is %s, not active", site.id, site.status)
                return site
        raise UsageError(
            f"Amber has no site {wanted!r} on this account",
            "known sites: " + ", ".join(f"{s.id} (NMI {s.nmi}, {s.status})" for s in sites),
        )
    active = [site for site in sites if site.status == "active"]
    if not active:
        raise ServiceError(
            "this Amber account has no active site"
            + (f" (only: {', '.join(f'{s.id} {s.status}' for s in sites)})" if sites else ""),
            "check the account at app.amber.com.au, or pass --site ID to use another",
        )
    if len(active) == 1:
        return active[0]
    index = ui.choose(
        "Several active Amber sites; which one?",
        [f"NMI {s.nmi} · {s.network} · {s.interval_length}-minute · {s.id}" for s in active],
    )
    return active[index]


# -- Teslemetry ----------------------------------------------------------------------------


def login_teslemetry(ctx: AppContext, token: str, site_id: int | None, ui: Ui) -> LoginResult:
    token = _require(token, "Teslemetry token")
    api = TeslaApi(ctx.teslemetry_connection(token))
    site = _pick_energy_site(api.energy_sites(), site_id, ui)
    zone = _remember_energy_site(ctx, api, site)
    ctx.store.set(TESLEMETRY_TOKEN, token)
    return LoginResult(
        f"Teslemetry: logged in; Powerwall site {site.id} ({site.name}, {zone}). "
        f"Token saved in {ctx.store.backend.description}."
    )


def _pick_energy_site(sites: list[EnergySite], wanted: int | None, ui: Ui) -> EnergySite:
    if not sites:
        raise ServiceError(
            "no energy site (Powerwall) was found on this Tesla account",
            "check that the account owns the Powerwall and that energy scopes were granted",
        )
    if wanted is not None:
        for site in sites:
            if site.id == wanted:
                return site
        raise UsageError(
            f"no energy site {wanted} on this account",
            "known sites: " + ", ".join(f"{s.id} ({s.name})" for s in sites),
        )
    if len(sites) == 1:
        return sites[0]
    return sites[
        ui.choose("Several energy sites; which one?", [f"{s.name} · {s.id}" for s in sites])
    ]


def _remember_energy_site(ctx: AppContext, api: TeslaApi, site: EnergySite) -> str:
    info = api.site_info(site.id)
    zone = info.get("installation_time_zone")
    state = load_state()
    state.energy_sites[str(site.id)] = EnergySiteState(
        time_zone=zone if isinstance(zone, str) else None, name=site.name
    )
    save_state(state)
    ctx.update({"tesla.energy_site_id": site.id})
    return zone if isinstance(zone, str) else "time zone unknown"


# -- Fleet ---------------------------------------------------------------------------------


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
        client_secret = _require(entered, "client secret", "--client-secret-stdin")
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
    site = _pick_energy_site(sites, options.site_id, ui)
    zone = _remember_energy_site(ctx, api, site)
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


# -- logout, keys, registration ------------------------------------------------------------


@dataclass(frozen=True)
class LoggedOut:
    removed: list[str]  # secrets deleted from the store
    remaining: list[str]  # read-only overrides that still provide one ("… from …")


def logout(ctx: AppContext, service: Service) -> LoggedOut:
    names = {
        "amber": [AMBER_TOKEN],
        "teslemetry": [TESLEMETRY_TOKEN],
        "fleet": [FLEET_TOKENS],
        "all": [AMBER_TOKEN, TESLEMETRY_TOKEN, FLEET_TOKENS, FLEET_CLIENT_SECRET],
    }[service]
    removed = [name for name in names if ctx.store.backend.get(name) is not None]
    for name in names:
        ctx.store.delete(name)
    remaining = [
        f"{name} (from {found.origin})"
        for name in names
        if (found := ctx.store.find(name)) is not None and not found.writable
    ]
    return LoggedOut(removed, remaining)


def public_key_file(ctx: AppContext) -> Path:
    return ctx.loaded.path.parent / "com.tesla.3p.public-key.pem"


def keygen(ctx: AppContext, force: bool, output: Path | None) -> tuple[str, Path]:
    found = ctx.store.find(FLEET_PRIVATE_KEY)
    if found is not None and not found.writable:
        raise SecretsError(
            f"the private key comes from {found.origin}, which takes precedence over the secret "
            "store: a new key made here would not be used",
            "keep that key (its public half is what Tesla must find), or remove the credential "
            "before making a new key",
        )
    if found is not None and not force:
        raise UsageError(
            "a key pair already exists; replacing it breaks the partner registration until the "
            "new public key is served and registered again",
            "pass --force to replace it",
        )
    private = keys.generate_private_key_pem()
    public = keys.public_key_pem(private)
    ctx.store.set(FLEET_PRIVATE_KEY, private)
    path = output or public_key_file(ctx)
    atomic_write_text(path, public, mode=0o644)
    return public, path


def register(
    ctx: AppContext,
    domain: str,
    ui: Ui,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> str:
    """Register the app's partner account in the configured region (a partner token needs only
    the client id and secret: no user login) and check the public key Tesla got."""
    client_id = client_id or ctx.config.tesla.client_id
    secret = client_secret or ctx.store.get(FLEET_CLIENT_SECRET)
    if not client_id or not secret:
        raise AuthError(
            "registration needs the Fleet client id and secret",
            "pass --client-id ID and --client-secret-stdin (both from developer.tesla.com), or "
            "run `amber-tesla-sync login fleet --client-id ID` first (it saves both)",
        )
    audience = ctx.config.tesla.fleet_api_url
    partner = TokenEndpoint(ctx.config.tesla.token_url, ctx.policy).partner_token(
        client_id, secret, audience
    )
    if client_secret:  # accepted by Tesla: keep it for `login fleet` and later registrations
        ctx.store.set(FLEET_CLIENT_SECRET, client_secret)
    if client_id != ctx.config.tesla.client_id:
        ctx.update({"tesla.client_id": client_id})
    api = TeslaApi(ctx.fleet_connection(StaticToken(partner)))
    served_at = f"https://{domain}{keys.WELL_KNOWN_PATH}"
    again = f"then run `amber-tesla-sync register --domain {domain}` again"
    try:
        api.register_partner(domain)
    except Refused as refused:
        if "allowed origin" in refused.message:
            hint = (
                "register the domain of your app's allowed origin (developer.tesla.com → your "
                "app), or change the allowed origin there; " + again
            )
        else:
            hint = (
                f"Tesla downloads the public key from {served_at}: serve "
                f"{public_key_file(ctx)} there unchanged (`amber-tesla-sync keygen` makes it), "
                + again
            )
        raise ServiceError(refused.message, hint) from None
    ctx.update({"tesla.domain": domain})
    reported = api.partner_public_key(domain).get("public_key")
    private = ctx.store.get(FLEET_PRIVATE_KEY)  # a systemd credential counts too
    if private is None:
        return (
            f"Registered {domain} with Tesla ({audience}). No local key to compare with "
            "Tesla's: run `amber-tesla-sync keygen` if you have not made one."
        )
    ours = keys.public_key_pem(private)
    if not isinstance(reported, str) or not keys.matches(ours, reported):
        raise ServiceError(
            f"Tesla registered {domain}, but the public key it found there is not this tool's key",
            f"serve {public_key_file(ctx)} unchanged at {served_at}, " + again,
        )
    return (
        f"Registered {domain} with Tesla ({audience}); the public key Tesla reports matches ours."
    )


def _require(value: str, what: str, option: str = "--token-stdin") -> str:
    value = value.strip()
    if not value:
        raise UsageError(
            f"no {what} given", f"paste the {what} when asked, or pipe it in with {option}"
        )
    return value

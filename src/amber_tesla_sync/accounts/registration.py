"""The Fleet app's key pair (``keygen``) and its partner registration with Tesla (``register``),
which checks the public key Tesla found against ours."""

from __future__ import annotations

from pathlib import Path

from amber_tesla_sync.accounts.ui import Ui
from amber_tesla_sync.errors import AuthError, SecretsError, ServiceError, UsageError
from amber_tesla_sync.store.secrets import FLEET_CLIENT_SECRET, FLEET_PRIVATE_KEY
from amber_tesla_sync.support.files import atomic_write_text
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla import keys
from amber_tesla_sync.tesla.api import TeslaApi
from amber_tesla_sync.tesla.connection import Refused
from amber_tesla_sync.tesla.oauth import TokenEndpoint
from amber_tesla_sync.tesla.tokens import StaticToken


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

"""Logging in to Amber: check the token, pick the site, and remember its channels."""

from __future__ import annotations

import logging

from amber_tesla_sync.accounts.ui import LoginResult, Ui, require
from amber_tesla_sync.amber.client import AmberClient
from amber_tesla_sync.amber.models import FEED_IN, GENERAL, Site
from amber_tesla_sync.errors import ServiceError, UsageError
from amber_tesla_sync.store.secrets import AMBER_TOKEN
from amber_tesla_sync.store.state import AmberSiteState, load_state, save_state
from amber_tesla_sync.sync.context import AppContext

log = logging.getLogger(__name__)


def login_amber(ctx: AppContext, token: str, site_id: str | None, ui: Ui) -> LoginResult:
    token = require(token, "Amber API token")
    with AmberClient(ctx.config.amber.base_url, token, ctx.policy) as client:
        sites = client.sites()
    site = _pick_amber_site(sites, site_id, ui)
    ctx.store.set(AMBER_TOKEN, token)
    ctx.update({"amber.site_id": site.id})
    state = load_state()
    state.amber_sites[site.id] = AmberSiteState(
        interval_length=site.interval_length,
        channels=sorted(site.channel_types & {GENERAL, FEED_IN}),
        nmi=site.nmi,
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
        "Several active Amber sites",
        [f"NMI {s.nmi} · {s.network} · {s.interval_length}-minute · {s.id}" for s in active],
    )
    return active[index]

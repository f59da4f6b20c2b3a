"""Logging in to Teslemetry: check the token on the energy sites it lists, and save it."""

from __future__ import annotations

from amber_tesla_sync.accounts.energy_sites import pick_energy_site, remember_energy_site
from amber_tesla_sync.accounts.ui import LoginResult, Ui, require
from amber_tesla_sync.store.secrets import TESLEMETRY_TOKEN
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla.api import TeslaApi


def login_teslemetry(ctx: AppContext, token: str, site_id: int | None, ui: Ui) -> LoginResult:
    token = require(token, "Teslemetry token")
    api = TeslaApi(ctx.teslemetry_connection(token))
    site = pick_energy_site(api.energy_sites(), site_id, ui)
    zone = remember_energy_site(ctx, api, site)
    ctx.store.set(TESLEMETRY_TOKEN, token)
    return LoginResult(
        f"Teslemetry: logged in; Powerwall site {site.id} ({site.name}, {zone}). "
        f"Token saved in {ctx.store.backend.description}."
    )

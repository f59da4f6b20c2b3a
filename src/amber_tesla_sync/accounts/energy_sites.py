"""Choosing the Powerwall's energy site after a Tesla login (Teslemetry or Fleet), and remembering
it: its id in the config, its name and time zone in the state."""

from __future__ import annotations

from amber_tesla_sync.accounts.ui import Ui
from amber_tesla_sync.errors import ServiceError, UsageError
from amber_tesla_sync.store.state import EnergySiteState, load_state, save_state
from amber_tesla_sync.sync.context import AppContext
from amber_tesla_sync.tesla.api import EnergySite, TeslaApi


def pick_energy_site(sites: list[EnergySite], wanted: int | None, ui: Ui) -> EnergySite:
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
    return sites[ui.choose("Several energy sites", [f"{s.name} · {s.id}" for s in sites])]


def remember_energy_site(ctx: AppContext, api: TeslaApi, site: EnergySite) -> str:
    zone = api.site(site.id).time_zone
    state = load_state()
    state.energy_sites[str(site.id)] = EnergySiteState(time_zone=zone, name=site.name)
    save_state(state)
    ctx.update({"tesla.energy_site_id": site.id})
    return zone if zone is not None else "time zone unknown"

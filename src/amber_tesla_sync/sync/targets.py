"""Which Amber site drives which Powerwall: ``[[sites]]``, or the single-site keys."""

from __future__ import annotations

from dataclasses import dataclass

from amber_tesla_sync.errors import ConfigError, UsageError
from amber_tesla_sync.settings.config import Config, SiteLink


@dataclass(frozen=True)
class Target:
    key: str  # how the site is named in logs, state and history
    amber_site_id: str
    energy_site_id: int
    timezone: str | None


def targets(config: Config, only: str | None = None) -> list[Target]:
    if config.sites:
        found = [
            Target(s.name or s.amber_site_id, s.amber_site_id, s.energy_site_id, s.timezone)
            for s in config.sites
        ]
    else:
        if not config.amber.site_id:
            raise ConfigError(
                "no Amber site is configured (amber.site_id)", "run `amber-tesla-sync login amber`"
            )
        if config.tesla.energy_site_id is None:
            raise ConfigError(
                "no Powerwall is configured (tesla.energy_site_id)",
                "run `amber-tesla-sync login fleet` or `amber-tesla-sync login teslemetry`",
            )
        found = [
            Target(
                config.amber.site_id,
                config.amber.site_id,
                config.tesla.energy_site_id,
                config.site.timezone,
            )
        ]
    if only is None:
        return found
    chosen = [t for t in found if only in (t.key, t.amber_site_id, str(t.energy_site_id))]
    if not chosen:
        raise UsageError(
            f"no configured site {only!r}", "configured: " + ", ".join(t.key for t in found)
        )
    return chosen


def site_zones(config: Config, only: str | None = None) -> list[tuple[str | None, int | None]]:
    """Each configured site's (or only ``only``'s) zone and Powerwall, as far as they are
    configured: what times can be read in before a site is complete (see sync/zones.py)."""
    if not config.sites:
        return [(config.site.timezone, config.tesla.energy_site_id)]
    chosen = [s for s in config.sites if _named(s, only)]
    if not chosen:
        targets(config, only)  # says which sites are configured
    return [(s.timezone, s.energy_site_id) for s in chosen]


def configured_zone(config: Config, only: str | None = None) -> str | None:
    """The zone configured for the site ``sync`` would run first (or ``only``), if any: what an
    offline preview can know without the state or the Powerwall."""
    return site_zones(config, only)[0][0]


def _named(site: SiteLink, only: str | None) -> bool:
    return only is None or only in (site.name, site.amber_site_id, str(site.energy_site_id))

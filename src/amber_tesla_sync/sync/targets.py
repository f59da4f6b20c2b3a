"""Which Amber site drives which Powerwall: ``[[sites]]``, or the single-site keys."""

from __future__ import annotations

from dataclasses import dataclass

from amber_tesla_sync.errors import ConfigError, UsageError
from amber_tesla_sync.settings.config import Config


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

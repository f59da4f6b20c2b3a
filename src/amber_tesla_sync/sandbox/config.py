"""Sandbox settings and the throwaway credentials that work against it."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber_tesla_sync.sandbox.noise import digits

HOST = "127.0.0.1"
DEFAULT_CALLBACK_PORT = 58585
DEFAULT_DOMAIN = "amber-tesla-sync.example"
USER_SCOPES = ("openid", "offline_access", "user_data", "energy_device_data", "energy_cmds")
APP_SCOPES = frozenset(
    {
        *USER_SCOPES,
        "vehicle_device_data",
        "vehicle_cmds",
        "vehicle_charging_cmds",
        "vehicle_location",
    }
)


@dataclass(frozen=True)
class SandboxCredentials:
    """Credentials accepted by the sandbox (derived from the seed, so stable across restarts)."""

    amber_token: str
    teslemetry_token: str
    client_id: str
    client_secret: str
    redirect_uri: str
    allowed_domain: str

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "amber_token": self.amber_token,
            "teslemetry_token": self.teslemetry_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": self.redirect_uri,
            "allowed_domain": self.allowed_domain,
        }


@dataclass
class SandboxConfig:
    """How to build a sandbox."""

    seed: int = 0
    port: int = 0
    callback_port: int = DEFAULT_CALLBACK_PORT
    callback_path: str = "/callback"
    expires_in: int = 28_800
    amber_rate_limit: int | None = 50
    teslemetry_rate_limit: int | None = 30
    require_pkce: bool = False
    partner_registered: bool = False
    allowed_domain: str = DEFAULT_DOMAIN
    public_key_file: Path | None = None
    powerwalls: int = 1
    """How many Powerwalls (energy sites) the Tesla user has: the first is ``energy_site``."""
    extra_amber_sites: int = 0
    """Active 30-minute Amber sites added after the usual three (each its own network rate)."""
    """Where the sandbox "downloads" the partner public key from when a domain has none hosted
    through the control API (e.g. the PEM file ``keygen`` wrote)."""


def _hex(seed: int, name: str, length: int) -> str:
    return hashlib.blake2b(f"{seed}|{name}".encode(), digest_size=32).hexdigest()[:length]


def make_credentials(config: SandboxConfig) -> SandboxCredentials:
    """The sandbox's credentials for ``config``."""
    seed = config.seed
    return SandboxCredentials(
        amber_token="psk_" + _hex(seed, "amber-token", 32),
        teslemetry_token=_hex(seed, "teslemetry-token", 48),
        client_id=str(uuid.UUID(_hex(seed, "client-id", 32))),
        client_secret="ta-secret." + _hex(seed, "client-secret", 24),
        redirect_uri=f"http://localhost:{config.callback_port}{config.callback_path}",
        allowed_domain=config.allowed_domain,
    )


def energy_site_id(seed: int, number: int = 0) -> int:
    """The energy site id (a 16-digit integer, like Tesla's) of the user's first Powerwall, or of
    a further one (``number`` ≥ 1)."""
    return int("2" + digits(seed, "energy-site" if number == 0 else f"energy-site-{number}", 15))


def user_id(seed: int) -> str:
    """The Tesla user's id (token subject)."""
    return str(uuid.UUID(_hex(seed, "tesla-user", 32)))

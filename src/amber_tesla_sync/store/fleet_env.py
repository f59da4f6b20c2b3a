"""Fleet tokens from the environment: ``TESLA_FLEET_ACCESS_TOKEN`` and/or
``TESLA_FLEET_REFRESH_TOKEN``, made into the token set the secret store would hold.

A Fleet refresh token rotates at every refresh, and a variable cannot be written back. So a
refreshed set is kept for the rest of the run, and saved in the secret store when a writable one
exists, marked with a fingerprint of the variable it grew from: the next run, finding the same
variable, takes the saved (newer) set instead of the used-up token, and a new value in the
variable wins again. Without a writable store a refreshed set lasts for the run only, and the
variable's refresh token has been used (a warning says so; nothing fails for it).

With both, the access token serves until it expires (read from the token, a JWT; at once when it
cannot be read); with the refresh token alone the tool refreshes at once; with the access token
alone it is used until Tesla refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

ACCESS_VARIABLE = "TESLA_FLEET_ACCESS_TOKEN"
REFRESH_VARIABLE = "TESLA_FLEET_REFRESH_TOKEN"
SEED_FIELD = "environment_seed"  # in a saved set: the fingerprint of the variable it grew from
NOMINAL_LIFETIME = 8 * 3600  # a Fleet access token's life, for one whose expiry cannot be read


@dataclass(frozen=True)
class EnvironmentTokens:
    access: str
    refresh: str

    @property
    def origin(self) -> str:
        names = [
            name
            for name, value in ((ACCESS_VARIABLE, self.access), (REFRESH_VARIABLE, self.refresh))
            if value
        ]
        return (
            "environment variables " if len(names) > 1 else "environment variable "
        ) + " and ".join(names)

    @property
    def seed(self) -> str:
        """A fingerprint of the variables (not reversible; never the token itself)."""
        source = f"refresh:{self.refresh}" if self.refresh else f"access:{self.access}"
        return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]

    def token_set(self, now: float) -> str:
        """The token set (the secret store's JSON form) these variables make at ``now``."""
        if not self.refresh:  # nothing to refresh with: use it until Tesla refuses it
            expires_at = now + NOMINAL_LIFETIME
        else:  # refresh when it expires (at once when that cannot be read)
            expires_at = (jwt_expiry(self.access) or 0.0) if self.access else 0.0
        return json.dumps(
            {
                "access_token": self.access,
                "refresh_token": self.refresh,
                "expires_at": expires_at,
                "scope": "",
                "previous_refresh_token": "",
                SEED_FIELD: self.seed,
            }
        )


def from_environment(environ: Mapping[str, str]) -> EnvironmentTokens | None:
    """The Fleet tokens ``environ`` gives, if any."""
    access = environ.get(ACCESS_VARIABLE, "").strip()
    refresh = environ.get(REFRESH_VARIABLE, "").strip()
    return EnvironmentTokens(access, refresh) if access or refresh else None


def seeded(value: str, seed: str) -> str:
    """A token set (JSON) marked as grown from the variables of fingerprint ``seed``."""
    try:
        data = json.loads(value)
    except ValueError:
        return value
    if not isinstance(data, dict):
        return value
    return json.dumps(data | {SEED_FIELD: seed})


def seed_of(value: str) -> str | None:
    """The fingerprint a saved token set is marked with, if any."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    found = data.get(SEED_FIELD) if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (read, not verified: only to know when to refresh)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    expiry = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        return None
    return float(expiry)

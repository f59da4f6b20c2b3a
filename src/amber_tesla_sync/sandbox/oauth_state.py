"""The sandbox OAuth server's records and state: the registered application, the behaviour
switches, authorization codes, access grants and refresh-token chains."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class OAuthClient:
    """The developer application registered with Tesla."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[str]


@dataclass
class OAuthSettings:
    """Behaviour switches (changeable at run time)."""

    expires_in: int = 28_800
    require_pkce: bool = False
    declined_scopes: set[str] = field(default_factory=set)
    """Scopes the simulated user unticks on the consent page (unless ``prompt_missing_scopes``)."""
    deny_consent: bool = False
    """When true the simulated user refuses consent (redirect with ``error=access_denied``)."""
    strict_refresh: bool = False
    """Strict single-use refresh tokens: no 24-hour grace for the last used one (any token but
    the current one gives ``login_required``)."""


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class AccessGrant:
    """An issued access token."""

    jti: str
    kind: Literal["user", "partner"]
    subject: str
    scopes: tuple[str, ...]
    audience: tuple[str, ...]
    expires_at: datetime
    revoked: bool = False


@dataclass
class RefreshChain:
    scopes: tuple[str, ...]
    audience: tuple[str, ...]
    current: str
    last_used: str | None = None
    last_used_at: datetime | None = None
    revoked: bool = False


class OAuthState:
    """What the authorize page, the token endpoint and the resource-server side share: the codes,
    access grants and refresh-token chains of one Tesla user and one application, and one lock."""

    def __init__(
        self,
        client: OAuthClient,
        *,
        user_id: str,
        region: str,
        issuer: str,
        audiences: Callable[[], tuple[str, ...]],
        clock: Callable[[], datetime],
        settings: OAuthSettings,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.region = region
        self.issuer = issuer
        self.settings = settings
        self._audiences = audiences
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._codes: dict[str, AuthCode] = {}
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, tuple[int, datetime]] = {}
        self._chains: list[RefreshChain] = []

"""Access tokens for the Tesla client: static (Teslemetry, partner) or rotating (Fleet).

Fleet refresh tokens are single-use, so refreshing is serialised across processes with the secret
store's lock (one per store, whatever the state directory) held across "read → refresh → save",
and the new tokens are saved (atomically, in the secret store) before the new access token is
used. Overlapping runs (cron, several sites or users sharing a store) therefore never burn the
chain: a run that waited for the lock finds the tokens already refreshed and uses them.

The access token is refreshed *before* it expires (its expiry is saved with it), never by sending
a billed request that comes back 401 and sending it again: :data:`MARGIN` ahead, which covers the
clock skew a run tolerates (``sync.max_clock_skew_minutes``, 5 min by default: the tool's clock may
run behind Tesla's) and a request's time on the wire. The token endpoint is not billed; a 401 is.
A 401 is still answered by one refresh and one retry (a token revoked early).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Protocol

from amber_tesla_sync.errors import AuthError, SecretsError
from amber_tesla_sync.store.secrets import FLEET_TOKENS, SecretStore
from amber_tesla_sync.support import redact
from amber_tesla_sync.tesla.oauth import (
    LOGIN_HINT,
    UNREADABLE,
    LoginRequired,
    TokenEndpoint,
    TokenSet,
)

log = logging.getLogger(__name__)
MARGIN = 6 * 60.0  # seconds before its expiry an access token is refreshed (see the module)


def wall_clock() -> float:
    """The tool's clock (``time.time``, looked up at each call)."""
    return time.time()


class TokenSource(Protocol):
    def token(self) -> str: ...

    def refresh_after_rejection(self, rejected: str) -> str | None:
        """A new token after ``rejected`` got a 401, or None when this source cannot refresh."""
        ...


class StaticToken:
    def __init__(self, value: str) -> None:
        redact.remember(value)
        self._value = value

    def token(self) -> str:
        return self._value

    def refresh_after_rejection(self, rejected: str) -> str | None:
        return None


class FleetTokens:
    """The logged-in user's Fleet tokens, refreshed ahead of expiry and once after a 401."""

    def __init__(
        self,
        store: SecretStore,
        endpoint: TokenEndpoint,
        client_id: str,
        clock: Callable[[], float] | None = None,
        margin: float = MARGIN,
    ) -> None:
        self.store = store
        self.endpoint = endpoint
        self.client_id = client_id
        self.clock = clock or wall_clock
        self.margin = margin
        self.refreshes = 0

    def load(self) -> TokenSet:
        found = self.store.find(FLEET_TOKENS)
        if found is None:
            raise AuthError("not logged in to the Tesla Fleet API", LOGIN_HINT)
        try:
            tokens = TokenSet.from_json(found.value)
        except (*UNREADABLE, ValueError, KeyError, TypeError) as exc:
            raise AuthError("the saved Fleet tokens are damaged", LOGIN_HINT) from exc
        if not math.isfinite(tokens.expires_at):
            raise AuthError("the saved Fleet tokens are damaged", LOGIN_HINT)
        return tokens

    def token(self) -> str:
        tokens = self.load()
        if not tokens.expiring(self.clock(), self.margin):
            return tokens.access_token
        return self._refresh(lambda current: current.expiring(self.clock(), self.margin))

    def refresh_after_rejection(self, rejected: str) -> str | None:
        return self._refresh(lambda current: current.access_token == rejected)

    def _refresh(self, still_needed: Callable[[TokenSet], bool]) -> str:
        with self.store.locked():
            current = self.load()  # another run may have refreshed while we waited
            if not still_needed(current):
                return current.access_token
            found = self.store.find(FLEET_TOKENS)
            if found is not None and not found.writable:
                raise SecretsError(
                    f"the Fleet tokens come from a read-only source ({found.origin}) but Fleet "
                    "refresh tokens rotate: every refresh must be saved",
                    "keep Fleet tokens in a writable store (the OS keyring or "
                    "`amber-tesla-sync config set secrets.store file`) and log in again",
                )
            used = current.refresh_token
            try:
                fresh = self.endpoint.refresh(self.client_id, used)
            except LoginRequired:
                if not current.previous_refresh_token:
                    raise
                log.warning(
                    "Tesla refused the saved refresh token; trying the one before it (the answer "
                    "to an earlier refresh may have been lost)"
                )
                used = current.previous_refresh_token
                fresh = self.endpoint.refresh(self.client_id, used)
            fresh = dataclasses.replace(fresh, previous_refresh_token=used)
            self.store.set(FLEET_TOKENS, fresh.to_json())  # saved before it is used
            self.refreshes += 1
            log.info(
                "refreshed the Fleet access token (valid for %.0f min)",
                (fresh.expires_at - time.time()) / 60,
            )
            return fresh.access_token

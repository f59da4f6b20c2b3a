"""A Fleet access token is refreshed before it expires, never by a billed request that comes back
401 and is sent again: a push at the token's expiry is one billed write, even with the tool's
clock a few minutes behind Tesla's (as much as a sync tolerates)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from amber_tesla_sync.sandbox import Sandbox
from amber_tesla_sync.settings.config import SyncSettings
from amber_tesla_sync.store.secrets import FLEET_TOKENS, Found
from amber_tesla_sync.tariff import build_request_body
from amber_tesla_sync.tesla.api import TeslaApi
from amber_tesla_sync.tesla.connection import TeslaConnection
from amber_tesla_sync.tesla.oauth import TokenEndpoint, TokenSet
from amber_tesla_sync.tesla.tokens import MARGIN, FleetTokens
from sandboxkit import fleet_tokens

T0 = dt.datetime(2026, 1, 15, 5, 0, tzinfo=dt.UTC)
BEHIND = 4 * 60.0  # seconds the tool's clock runs behind Tesla's (a sync tolerates 5 min)


class MemoryStore:
    """A writable secret store of the Fleet tokens alone."""

    def __init__(self, tokens: TokenSet) -> None:
        self.value = tokens.to_json()

    def find(self, name: str) -> Found | None:
        return Found(self.value, "the test", True) if name == FLEET_TOKENS else None

    def set(self, name: str, value: str) -> None:
        assert name == FLEET_TOKENS
        self.value = value

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        yield


def expiry(access_token: str) -> float:
    """The ``exp`` claim of a JWT (the sandbox's clock, as Tesla's tokens carry theirs)."""
    payload = access_token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return float(claims["exp"])


def logged_in(sandbox: Sandbox) -> TokenSet:
    tokens = fleet_tokens(sandbox)
    # the expiry on the tool's clock, as saved at login (then in step with Tesla's)
    return dataclasses.replace(tokens, expires_at=expiry(tokens.access_token))


def push_at(seconds_after_expiry: float) -> tuple[dict[str, Any], FleetTokens]:
    """Push a tariff that many seconds after the access token's expiry on Tesla's clock, with
    the tool's clock BEHIND; the sandbox's request counts and the token source."""
    with Sandbox(seed=3, partner_registered=True) as sandbox:
        sandbox.set_time(T0)
        tokens = logged_in(sandbox)
        at = tokens.expires_at + seconds_after_expiry
        sandbox.set_time(dt.datetime.fromtimestamp(at, dt.UTC))
        store: Any = MemoryStore(tokens)
        fleet = FleetTokens(
            store,
            TokenEndpoint(sandbox.token_url),
            sandbox.credentials.client_id,
            clock=lambda: at - BEHIND,
        )
        api = TeslaApi(TeslaConnection("fleet", sandbox.fleet_na_base_url, fleet))
        body = build_request_body(
            {f"{h // 2:02d}:{h % 2 * 30:02d}": (0.25, 0.05) for h in range(48)}
        )
        sandbox.clear_requests()
        api.set_time_of_use(sandbox.energy_site_id, body)
        return sandbox.request_counts(), fleet


def test_a_push_at_the_tokens_expiry_is_one_billed_write() -> None:
    counts, fleet = push_at(30.0)  # Tesla: expired 30 s ago; the tool's clock: 3.5 min to go
    assert counts["fleet_billing"]["command_requests"] == 1
    assert counts["fleet_billing"]["data_requests"] == 0
    assert "401" not in counts["by_status"]
    assert fleet.refreshes == 1  # refreshed before the push, not after a 401


def test_a_token_far_from_its_expiry_is_not_refreshed() -> None:
    counts, fleet = push_at(-(MARGIN + BEHIND + 60))  # a minute before the margin begins
    assert counts["fleet_billing"]["command_requests"] == 1
    assert fleet.refreshes == 0


def test_the_margin_covers_the_clock_skew_a_sync_tolerates() -> None:
    assert SyncSettings().max_clock_skew_minutes * 60 < MARGIN

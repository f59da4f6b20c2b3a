"""Steering the in-process sandbox: its clock, the energy site and its tariff, faults, partner
registrations, the user's approval, tokens and behaviour switches."""

from __future__ import annotations

import http.client
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

from amber_tesla_sync.sandbox.app import SandboxApp
from amber_tesla_sync.sandbox.clock import SandboxClock
from amber_tesla_sync.sandbox.config import SandboxConfig
from amber_tesla_sync.sandbox.faults import Fault, FaultKind, Malformation
from amber_tesla_sync.sandbox.partners import public_key_hex


class SandboxSteering:
    """What :class:`~amber_tesla_sync.sandbox.runner.Sandbox` offers a test to change."""

    app: SandboxApp
    config: SandboxConfig
    clock: SandboxClock

    # -- clock -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Sandbox time."""
        return self.clock.now()

    def set_time(self, when: datetime, *, running: bool = False) -> None:
        """Set the clock (frozen unless ``running``)."""
        self.clock.set(when, running=running)

    def advance(self, delta: float | timedelta) -> datetime:
        """Move the clock forward."""
        return self.clock.advance(delta)

    def use_real_time(self) -> None:
        """Follow real time again."""
        self.clock.use_real_time()

    # -- manipulation ------------------------------------------------------------------------

    def set_energy_site(self, **changes: Any) -> None:
        """Change site settings (e.g. ``default_real_mode="self_consumption"``,
        ``tou_capable=False``, ``soc_percent=50``, ``tariff_content_v2={...}``)."""
        with self.app.lock:
            unknown = self.app.energy_site.update(changes, self.now())
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")

    def set_tariff(self, tariff: Any) -> None:
        """Put a tariff on the Powerwall directly (e.g. a foreign one)."""
        with self.app.lock:
            self.app.energy_site.set_tariff(tariff, self.now())

    def add_fault(
        self,
        path: str,
        kind: FaultKind = "status",
        *,
        count: int = 1,
        method: str | None = None,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_seconds: float = 0.0,
        malformed: Malformation = "truncated",
        applied: bool = False,
    ) -> int:
        """Make the next ``count`` requests whose path starts with ``path`` fail; returns an id.
        ``applied``: carry each out first, then spoil only its answer (see ``faults.Fault``)."""
        fault = Fault(
            path=path,
            kind=kind,
            remaining=count,
            method=method,
            status=status,
            body=body,
            headers=dict(headers or {}),
            delay_seconds=delay_seconds,
            malformed=malformed,
            applied=applied,
        )
        return self.app.add_fault(fault).id

    def faults(self) -> list[dict[str, Any]]:
        """Active fault rules."""
        return self.app.faults.list()

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.app.faults.clear()

    def register_partner(
        self, region: str = "na", domain: str | None = None, public_key_pem: str | None = None
    ) -> None:
        """Mark the application as registered in ``region``."""
        key = public_key_hex(public_key_pem) if public_key_pem else None
        self.app.partners.register(
            region, domain or self.config.allowed_domain, key, self.now().isoformat()
        )

    def unregister_partner(self, region: str = "na") -> None:
        """Forget the registration of ``region`` (calls get 412 again)."""
        self.app.partners.unregister(region)

    def host_public_key(self, domain: str, pem: str) -> None:
        """Serve ``pem`` as the public key at ``https://<domain>/.well-known/…``."""
        self.app.partners.host_key(domain, pem)

    def approve(self, authorize_url: str) -> str:
        """Play the user's browser: open ``authorize_url`` and return the authorization code it
        redirects with (for tests and benchmarks that log in without a browser)."""
        url = urllib.parse.urlsplit(authorize_url)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
        try:
            connection.request("GET", f"{url.path}?{url.query}")
            response = connection.getresponse()
            location = response.getheader("Location") or ""
        finally:
            connection.close()
        codes = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code")
        if response.status != 302 or not codes:
            raise ValueError(f"the sandbox did not approve: {response.status} {location!r}")
        return codes[0]

    def expire_access_tokens(self) -> int:
        """Expire every issued access token."""
        return self.app.oauth.expire_access_tokens()

    def revoke_refresh_tokens(self) -> int:
        """Invalidate every refresh-token chain."""
        return self.app.oauth.revoke_refresh_tokens()

    def valid_refresh_tokens(self) -> list[str]:
        """Refresh tokens that would be accepted now."""
        return self.app.oauth.valid_refresh_tokens()

    def set_switches(self, **changes: Any) -> None:
        """Change behaviour switches (see :meth:`SandboxApp.set_switches`)."""
        unknown = self.app.set_switches(changes)
        if unknown:
            raise ValueError(f"unknown switches: {', '.join(unknown)}")

    def switches(self) -> dict[str, Any]:
        """Current behaviour switches."""
        return self.app.switches()

    def set_amber_rate_limit(self, limit: int | None) -> None:
        """Requests per 300 s per account (None = unlimited)."""
        self.set_switches(amber_rate_limit=limit)

    def set_teslemetry_rate_limit(self, limit: int | None) -> None:
        """Requests per 60 s per token (None = unlimited)."""
        self.set_switches(teslemetry_rate_limit=limit)

    def set_token_lifetime(self, seconds: int) -> None:
        """``expires_in`` of tokens issued from now on."""
        self.set_switches(expires_in=seconds)

"""The :class:`Sandbox` object (in-process use by tests and ``demo``) and the foreground
:func:`serve_forever` (``amber-tesla-sync sandbox``)."""

from __future__ import annotations

import http.client
import sys
import threading
import urllib.parse
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO

from amber_tesla_sync.sandbox.app import SandboxApp
from amber_tesla_sync.sandbox.clock import SandboxClock
from amber_tesla_sync.sandbox.config import (
    DEFAULT_CALLBACK_PORT,
    DEFAULT_DOMAIN,
    HOST,
    SandboxConfig,
    SandboxCredentials,
)
from amber_tesla_sync.sandbox.control import ControlAPI
from amber_tesla_sync.sandbox.faults import Fault, FaultKind, Malformation
from amber_tesla_sync.sandbox.partners import public_key_hex
from amber_tesla_sync.sandbox.server import HTTPService
from amber_tesla_sync.sandbox.tariff_readback import readback


class Sandbox:
    """The loopback sandbox of the Amber API, the Tesla Fleet API (auth + regional hosts) and
    Teslemetry, all on one port of 127.0.0.1.

    Use as a context manager (``with Sandbox(seed=1) as sb: ...``) or call :meth:`start` and
    :meth:`stop`. ``port=0`` picks a free port. ``clock`` is a callable returning an aware UTC
    datetime (default: real time); the sandbox wraps it in a :class:`SandboxClock` that tests can
    set and advance.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        port: int = 0,
        callback_port: int = DEFAULT_CALLBACK_PORT,
        clock: Callable[[], datetime] | None = None,
        expires_in: int = 28_800,
        amber_rate_limit: int | None = 50,
        teslemetry_rate_limit: int | None = 30,
        require_pkce: bool = False,
        partner_registered: bool = False,
        allowed_domain: str = DEFAULT_DOMAIN,
        public_key_file: Path | None = None,
    ) -> None:
        self.config = SandboxConfig(
            seed=seed,
            port=port,
            callback_port=callback_port,
            expires_in=expires_in,
            amber_rate_limit=amber_rate_limit,
            teslemetry_rate_limit=teslemetry_rate_limit,
            require_pkce=require_pkce,
            partner_registered=partner_registered,
            allowed_domain=allowed_domain,
            public_key_file=public_key_file,
        )
        self.clock = clock if isinstance(clock, SandboxClock) else SandboxClock(clock)
        self.app = SandboxApp(self.config, self.clock)
        self.app.control_handler = ControlAPI(self.app).handle
        self._service: HTTPService | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 and serve in a background thread."""
        if self._service is not None:
            return self
        self.app.stopping.clear()
        service = HTTPService(self.app, self.config.port)
        self.app.base_url = f"http://{HOST}:{service.port}"
        service.start()
        self._service = service
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        service, self._service = self._service, None
        if service is not None:
            service.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._service is not None and self._service.running

    # -- addresses and credentials -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        return self.config.port if self._service is None else self._service.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.app.base_url

    @property
    def amber_base_url(self) -> str:
        """Amber API base (the client appends ``/sites``…)."""
        return f"{self.base_url}/amber/v1"

    @property
    def tesla_auth_base_url(self) -> str:
        """Tesla auth base (``/oauth2/v3/authorize``, ``/oauth2/v3/token`` below it)."""
        return f"{self.base_url}/auth"

    @property
    def authorize_url(self) -> str:
        """The authorize endpoint."""
        return f"{self.tesla_auth_base_url}/oauth2/v3/authorize"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.tesla_auth_base_url}/oauth2/v3/token"

    def fleet_base_url(self, region: str = "na") -> str:
        """Fleet API base URL of a region (``na`` is the user's; ``eu`` answers 421)."""
        return self.app.fleet_url(region)

    @property
    def fleet_na_base_url(self) -> str:
        """The user's Fleet API host."""
        return self.fleet_base_url("na")

    @property
    def fleet_eu_base_url(self) -> str:
        """The other region's Fleet API host."""
        return self.fleet_base_url("eu")

    @property
    def teslemetry_base_url(self) -> str:
        """Teslemetry base URL."""
        return f"{self.base_url}/teslemetry"

    @property
    def control_base_url(self) -> str:
        """Control API base URL."""
        return f"{self.base_url}/_sandbox"

    @property
    def credentials(self) -> SandboxCredentials:
        """Credentials that work against this sandbox."""
        return self.app.credentials

    @property
    def redirect_uri(self) -> str:
        """The registered redirect URI (``http://localhost:<callback_port>/callback``)."""
        return self.credentials.redirect_uri

    @property
    def amber_site_ids(self) -> list[str]:
        """All Amber site ids: 5-minute active, 30-minute active, closed."""
        return [s.id for s in self.app.amber_sites]

    @property
    def amber_site_id(self) -> str:
        """The active 5-minute site (general + feedIn)."""
        return self.app.amber_sites[0].id

    @property
    def amber_site_id_30min(self) -> str:
        """The active 30-minute site (general + controlledLoad + feedIn)."""
        return self.app.amber_sites[1].id

    @property
    def amber_closed_site_id(self) -> str:
        """The closed site."""
        return self.app.amber_sites[2].id

    @property
    def energy_site_id(self) -> int:
        """The Powerwall's energy site id."""
        return self.app.energy_site.energy_site_id

    @property
    def seed(self) -> int:
        """The seed of the generated prices."""
        return self.config.seed

    def info(self) -> dict[str, Any]:
        """URLs, credentials and ids as JSON."""
        return self.app.info()

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

    # -- inspection --------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the control API's ``/state`` shows."""
        return self.app.state()

    def requests(self) -> list[dict[str, Any]]:
        """The request log (oldest first)."""
        return self.app.log.entries()

    def request_counts(self) -> dict[str, Any]:
        """Counts by path, service, token kind, status, category, and the Fleet bill."""
        return self.app.log.counts()

    def clear_requests(self) -> None:
        """Clear the request log and counts."""
        self.app.log.clear()

    def stored_tariff(self) -> Any:
        """The tariff as stored (after Tesla's roundings)."""
        with self.app.lock:
            return self.app.energy_site.current_tariff(self.now())

    def readback_tariff(self) -> Any:
        """The tariff as ``site_info`` returns it."""
        return readback(self.stored_tariff())

    def tariff_posts(self) -> list[dict[str, Any]]:
        """Every ``time_of_use_settings`` POST: time, action, problems, body."""
        with self.app.lock:
            return list(self.app.energy_site.tou_posts)

    def validation_problems(self) -> list[str]:
        """Problems recorded for the latest ``time_of_use_settings`` POST."""
        with self.app.lock:
            return self.app.energy_site.validation_problems()

    def energy_site_settings(self) -> dict[str, Any]:
        """Mode, reserve, export rule, flags, …"""
        with self.app.lock:
            return self.app.energy_site.settings()

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
    ) -> int:
        """Make the next ``count`` requests whose path starts with ``path`` fail; returns an id."""
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


def banner(sandbox: Sandbox) -> str:
    """The foreground banner: base URLs and the sandbox's own throwaway credentials."""
    c = sandbox.credentials
    sites = sandbox.app.amber_sites
    lines = [
        f"amber-tesla-sync sandbox listening on {sandbox.base_url} (seed {sandbox.seed})",
        "",
        f"  Amber API            {sandbox.amber_base_url}",
        f"  Tesla auth           {sandbox.tesla_auth_base_url}",
        f"  Fleet API (NA)       {sandbox.fleet_na_base_url}",
        f"  Fleet API (EU)       {sandbox.fleet_eu_base_url}   (answers 421: user is in NA)",
        f"  Teslemetry           {sandbox.teslemetry_base_url}",
        f"  Control              {sandbox.control_base_url}",
        "",
        "Throwaway credentials (they work only against this sandbox):",
        f"  Amber token          {c.amber_token}",
        f"  Teslemetry token     {c.teslemetry_token}",
        f"  Fleet client_id      {c.client_id}",
        f"  Fleet client_secret  {c.client_secret}",
        f"  Redirect URI         {c.redirect_uri}",
        f"  Partner domain       {c.allowed_domain}",
        "",
        "Amber sites:",
        *(f"  {s.id}  {s.interval_length}-minute, {s.status}, NMI {s.nmi}" for s in sites),
        f"Energy site id: {sandbox.energy_site_id}",
        "",
        "Settings that point amber-tesla-sync here (save as sandbox.toml, then use",
        "`amber-tesla-sync --config sandbox.toml login amber` and so on):",
        "",
        "  [amber]",
        f'  base_url = "{sandbox.amber_base_url}"',
        "  [tesla]",
        f'  authorize_url = "{sandbox.authorize_url}"',
        f'  token_url = "{sandbox.token_url}"',
        f'  fleet_api_url = "{sandbox.fleet_na_base_url}"',
        f'  teslemetry_url = "{sandbox.teslemetry_base_url}"',
        f'  redirect_uri = "{c.redirect_uri}"',
        "  [secrets]",
        '  store = "file"',
        "",
        "To make `register` pass here (the sandbox plays Tesla downloading your public key from",
        "your domain, so hand it the key first):",
        "  amber-tesla-sync --config sandbox.toml keygen --output public-key.pem",
        f"  curl --data-binary @public-key.pem {sandbox.control_base_url}/public_keys/"
        f"{c.allowed_domain}",
        f"  amber-tesla-sync --config sandbox.toml register --domain {c.allowed_domain} \\",
        f"      --client-id {c.client_id} --client-secret-stdin   (then type the client_secret)",
        "Then `login fleet` with the same client_id and client_secret.",
        "",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def serve_forever(
    port: int,
    *,
    seed: int = 0,
    callback_port: int = DEFAULT_CALLBACK_PORT,
    public_key_file: Path | None = None,
    partner_registered: bool = False,
    out: TextIO | None = None,
) -> None:
    """Run the sandbox in the foreground on 127.0.0.1:``port`` until interrupted.

    Prints the base URLs and the credentials that work against it. ``public_key_file`` is the
    PEM the sandbox "downloads" when a partner account is registered (e.g. the file ``keygen``
    wrote). Raises ``OSError`` when the port is taken.
    """
    stream = out or sys.stdout
    sandbox = Sandbox(
        seed=seed,
        port=port,
        callback_port=callback_port,
        public_key_file=public_key_file,
        partner_registered=partner_registered,
    )
    sandbox.start()
    print(banner(sandbox), file=stream, flush=True)
    try:
        while sandbox.running:
            threading.Event().wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()

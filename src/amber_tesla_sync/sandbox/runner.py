"""The :class:`Sandbox` object (in-process use by tests and ``demo``): its life cycle, addresses,
credentials and inspection; what a test changes in it is in :mod:`.steering`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

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
from amber_tesla_sync.sandbox.energy_site import EnergySite
from amber_tesla_sync.sandbox.server import HTTPService
from amber_tesla_sync.sandbox.steering import SandboxSteering
from amber_tesla_sync.sandbox.tariff_readback import readback


class Sandbox(SandboxSteering):
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
        powerwalls: int = 1,
        extra_amber_sites: int = 0,
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
            powerwalls=powerwalls,
            extra_amber_sites=extra_amber_sites,
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
    def energy_site_ids(self) -> list[int]:
        """Every Powerwall's energy site id, the first (``energy_site_id``) first."""
        return [site.energy_site_id for site in self.app.powerwalls()]

    def powerwall(self, energy_site_id: int) -> EnergySite:
        """The Powerwall with this id (its tariff, settings and posts, for inspection)."""
        return next(s for s in self.app.powerwalls() if s.energy_site_id == energy_site_id)

    def most_at_once(self, energy_site_id: int) -> int:
        """The most requests about this Powerwall ever answered at the same time."""
        return self.app.powerwall_busy.most.get(str(energy_site_id), 0)

    @property
    def seed(self) -> int:
        """The seed of the generated prices."""
        return self.config.seed

    def info(self) -> dict[str, Any]:
        """URLs, credentials and ids as JSON."""
        return self.app.info()

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

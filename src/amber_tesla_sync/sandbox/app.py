"""The sandbox application: one object holding every service's state, routing by path prefix,
applying injected faults and logging requests. HTTP plumbing lives in :mod:`server`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from amber_tesla_sync.sandbox.amber import AmberService, AmberSettings
from amber_tesla_sync.sandbox.amber_sites import AmberSite, build_sites, extra_sites
from amber_tesla_sync.sandbox.auth import AuthService
from amber_tesla_sync.sandbox.busy import PowerwallBusy
from amber_tesla_sync.sandbox.clock import SandboxClock
from amber_tesla_sync.sandbox.config import (
    APP_SCOPES,
    SandboxConfig,
    SandboxCredentials,
    energy_site_id,
    make_credentials,
    user_id,
)
from amber_tesla_sync.sandbox.energy_api import category
from amber_tesla_sync.sandbox.energy_site import EnergySite
from amber_tesla_sync.sandbox.faults import Fault, FaultBook, spoil, status_response
from amber_tesla_sync.sandbox.fleet import FleetService, FleetSettings
from amber_tesla_sync.sandbox.meters import Meters
from amber_tesla_sync.sandbox.noise import ulid_like
from amber_tesla_sync.sandbox.oauth import OAuthServer
from amber_tesla_sync.sandbox.oauth_state import OAuthClient, OAuthSettings
from amber_tesla_sync.sandbox.partners import PartnerRegistry
from amber_tesla_sync.sandbox.ratelimit import FixedWindowLimiter
from amber_tesla_sync.sandbox.requestlog import LOGGED_PARAMS, RequestLog
from amber_tesla_sync.sandbox.teslemetry import TeslemetryService, TeslemetrySettings
from amber_tesla_sync.sandbox.wire import Request, Response, json_response

ISSUER = "https://auth.tesla.com/oauth2/v3"
AMBER_ACCOUNT = "amber-account-1"


class SandboxApp:
    """All three services behind one set of path prefixes."""

    def __init__(self, config: SandboxConfig, clock: SandboxClock) -> None:
        self.config = config
        self.clock = clock
        self.credentials: SandboxCredentials = make_credentials(config)
        self.base_url = f"http://127.0.0.1:{config.port}"
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.faults = FaultBook()
        self.log = RequestLog()

        self.energy_site = EnergySite(energy_site_id=energy_site_id(config.seed), seed=config.seed)
        self.more_powerwalls = tuple(
            EnergySite(
                energy_site_id=energy_site_id(config.seed, n),
                seed=config.seed + n,
                site_name=f"Sandbox Home {n + 1}",
            )
            for n in range(1, config.powerwalls)
        )
        self.powerwall_busy = PowerwallBusy()
        self.amber_sites: tuple[AmberSite, ...] = build_sites(config.seed) + extra_sites(
            config.seed, config.extra_amber_sites
        )
        self.amber_settings = AmberSettings()
        self.amber = AmberService(
            seed=config.seed,
            sites=self.amber_sites,
            tokens={self.credentials.amber_token: AMBER_ACCOUNT},
            clock=clock,
            limiter=FixedWindowLimiter(config.amber_rate_limit, 300),
            settings=self.amber_settings,
            meters=Meters(
                config.seed,
                self.amber_sites[0].id,
                self.energy_site.recorded,
            ),
        )

        self.oauth_settings = OAuthSettings(
            expires_in=config.expires_in, require_pkce=config.require_pkce
        )
        self.oauth = OAuthServer(
            OAuthClient(
                client_id=self.credentials.client_id,
                client_secret=self.credentials.client_secret,
                redirect_uris=(self.credentials.redirect_uri,),
                allowed_scopes=APP_SCOPES,
            ),
            user_id=user_id(config.seed),
            region="NA",
            issuer=ISSUER,
            audiences=lambda: (self.fleet_url("na"), self.fleet_url("eu")),
            clock=clock,
            settings=self.oauth_settings,
        )
        self.auth = AuthService(self.oauth, lambda: f"{self.base_url}/auth")

        self.partners = PartnerRegistry(config.allowed_domain, config.public_key_file)
        if config.partner_registered:
            self.partners.register("na", config.allowed_domain, None, clock().isoformat())
        self.fleet_settings = FleetSettings()
        self.fleet = FleetService(
            oauth=self.oauth,
            site=self.energy_site,
            partners=self.partners,
            base_url=self.fleet_url,
            clock=clock,
            settings=self.fleet_settings,
        )
        self.teslemetry_settings = TeslemetrySettings()
        self.teslemetry = TeslemetryService(
            token=self.credentials.teslemetry_token,
            uid=ulid_like(config.seed, "teslemetry-uid"),
            site=self.energy_site,
            fleet_base_url=lambda: self.fleet_url("na"),
            clock=clock,
            limiter=FixedWindowLimiter(config.teslemetry_rate_limit, 60),
            settings=self.teslemetry_settings,
        )
        others = {str(site.energy_site_id): site for site in self.more_powerwalls}
        self.fleet.others = self.teslemetry.others = others
        self.control_handler: Callable[[Request, str], Response] | None = None

    # -- URLs --------------------------------------------------------------------------------

    def fleet_url(self, region: str) -> str:
        """Base URL of a regional Fleet API host."""
        return f"{self.base_url}/fleet/{region}"

    def urls(self) -> dict[str, str]:
        """Every base URL."""
        return {
            "base": self.base_url,
            "amber": f"{self.base_url}/amber/v1",
            "tesla_auth": f"{self.base_url}/auth",
            "fleet_na": self.fleet_url("na"),
            "fleet_eu": self.fleet_url("eu"),
            "teslemetry": f"{self.base_url}/teslemetry",
            "control": f"{self.base_url}/_sandbox",
        }

    def info(self) -> dict[str, Any]:
        """Base URLs, credentials and ids (what a client needs to talk to the sandbox)."""
        return {
            "urls": self.urls(),
            "credentials": self.credentials.to_json(),
            "amber_site_ids": [s.id for s in self.amber_sites],
            "amber_sites": [s.to_json() for s in self.amber_sites],
            "energy_site_id": self.energy_site.energy_site_id,
            "seed": self.config.seed,
        }

    # -- request handling --------------------------------------------------------------------

    def powerwalls(self) -> tuple[EnergySite, ...]:
        """Every Powerwall of the user, the first one first."""
        return (self.energy_site, *self.more_powerwalls)

    def handle(self, request: Request) -> Response:
        """Answer one request (faults applied, request logged), counted while it is answered
        against its Powerwall (see :class:`PowerwallBusy`)."""
        with self.powerwall_busy.serving(request.path):
            return self._handle(request)

    def _handle(self, request: Request) -> Response:
        path = request.path
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            if self.control_handler is None:
                return json_response(404, {"error": "control API unavailable"})
            with self.lock:
                return self.control_handler(request, path[len("/_sandbox") :])
        service = self._service_of(path)
        fault = self.faults.take(request.method, path)
        if fault is not None and fault.applied and fault.kind != "malformed":
            return self._applied_then(fault, request, service, path)
        if fault is not None and fault.kind in ("status", "drop"):
            response = status_response(fault) if fault.kind == "status" else Response(0, drop=True)
            response.fault = fault.kind
            self._log(request, service, response)
            return response
        if fault is not None and fault.kind == "delay":
            self.stopping.wait(fault.delay_seconds)
        with self.lock:
            response = self._route(request, service, path)
        if fault is not None:
            response.fault = fault.kind
            if fault.kind == "malformed":
                response = spoil(response, fault.malformed)
                response.fault = "malformed"
        self._log(request, service, response)
        return response

    def _applied_then(self, fault: Fault, request: Request, service: str, path: str) -> Response:
        """Carry the request out, then spoil its answer as ``fault`` says (held back, dropped,
        or replaced by a status)."""
        with self.lock:
            done = self._route(request, service, path)
        response = done
        if fault.kind == "delay":
            self.stopping.wait(fault.delay_seconds)
        elif fault.kind == "drop":
            response = Response(0, drop=True)
        else:
            response = status_response(fault)
        response.token_kind, response.category = done.token_kind, done.category
        response.fault = f"{fault.kind} (applied)"
        self._log(request, service, response)
        return response

    @staticmethod
    def _service_of(path: str) -> str:
        for prefix, name in (
            ("/amber/", "amber"),
            ("/auth/", "auth"),
            ("/fleet/", "fleet"),
            ("/teslemetry/", "teslemetry"),
        ):
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                return name
        return "other"

    def _route(self, request: Request, service: str, path: str) -> Response:
        if service == "amber":
            if path == "/amber/v1" or path.startswith("/amber/v1/"):
                return self.amber.handle(request, path[len("/amber/v1") :])
            return json_response(
                403, {"message": "Forbidden"}, [("x-amzn-ErrorType", "AccessDeniedException")]
            )
        if service == "auth":
            return self.auth.handle(request, path[len("/auth") :])
        if service == "fleet":
            _, _, rest = path[len("/fleet/") :].partition("/")
            region = path[len("/fleet/") :].split("/", 1)[0]
            return self.fleet.handle(request, region, "/" + rest)
        if service == "teslemetry":
            return self.teslemetry.handle(request, path[len("/teslemetry") :])
        if path == "/" and request.method == "GET":
            return json_response(200, {"service": "amber-tesla-sync sandbox", "urls": self.urls()})
        return json_response(404, {"error": "not_found", "path": path})

    def _log(self, request: Request, service: str, response: Response) -> None:
        billable_path = service in ("fleet", "teslemetry") and "/api/1/" in request.path
        if response.category == "other" and billable_path:
            response.category = category(request.method)
        self.log.add(
            at=self.clock().isoformat(),
            method=request.method,
            path=request.path,
            service=service,
            status=response.status,
            token_kind=response.token_kind,
            category=response.category,
            fault=response.fault,
            params={
                name: values[0]
                for name, values in request.query.items()
                if name in LOGGED_PARAMS and values and service == "amber"
            },
        )

    # -- control operations (shared by the Python API and /_sandbox) --------------------------

    def now(self) -> datetime:
        """The sandbox time."""
        return self.clock()

    def add_fault(self, fault: Fault) -> Fault:
        """Register a fault rule."""
        return self.faults.add(fault)

    def state(self) -> dict[str, Any]:
        """Everything tests may want to inspect (no raw secrets except the sandbox's own)."""
        with self.lock:
            now = self.clock()
            site = self.energy_site
            return {
                "clock": self.clock.describe(),
                "energy_site": {
                    "energy_site_id": site.energy_site_id,
                    "settings": site.settings(),
                    "tariff_content_v2": site.current_tariff(now),
                    "pending_tariff": site.pending_tariff is not None,
                    "tariff_post_count": len(site.tou_posts),
                    "validation_problems": site.validation_problems(),
                    "soc_percent": round(site.battery.soc_percent, 4) if site.battery else None,
                },
                "amber": {
                    "sites": [s.to_json() for s in self.amber_sites],
                    "rate_limit": self.amber.limiter.limit,
                    "honour_resolution_30": self.amber_settings.honour_resolution_30,
                },
                "fleet": {
                    "user_region": self.fleet_settings.user_region,
                    "billing_disabled": self.fleet_settings.billing_disabled,
                    "partners": self.partners.summary(),
                },
                "oauth": self.oauth.summary(),
                "teslemetry": {
                    "rate_limit": self.teslemetry.limiter.limit,
                    "subscription_active": self.teslemetry_settings.subscription_active,
                    "scopes": list(self.teslemetry_settings.scopes),
                },
                "faults": self.faults.list(),
                "requests": self.log.counts(),
            }

    def set_switches(self, changes: dict[str, Any]) -> list[str]:
        """Change behaviour switches; returns names that were not recognised."""
        unknown: list[str] = []
        with self.lock:
            for name, value in changes.items():
                if name == "billing_disabled":
                    self.fleet_settings.billing_disabled = bool(value)
                elif name == "user_region":
                    self.fleet_settings.user_region = str(value)
                elif name == "refuse_commands":
                    self.energy_site.refuse_commands = (
                        None if value in (None, False, "") else str(value)
                    )
                elif name == "amber_rate_limit":
                    self.amber.limiter.set_limit(None if value is None else int(value))
                elif name == "teslemetry_rate_limit":
                    self.teslemetry.limiter.set_limit(None if value is None else int(value))
                elif name == "honour_resolution_30":
                    self.amber_settings.honour_resolution_30 = bool(value)
                elif name == "expires_in":
                    self.oauth_settings.expires_in = int(value)
                elif name == "require_pkce":
                    self.oauth_settings.require_pkce = bool(value)
                elif name == "declined_scopes":
                    self.oauth_settings.declined_scopes = {str(s) for s in value}
                elif name == "deny_consent":
                    self.oauth_settings.deny_consent = bool(value)
                elif name == "strict_refresh":
                    self.oauth_settings.strict_refresh = bool(value)
                elif name == "teslemetry_subscription_active":
                    self.teslemetry_settings.subscription_active = bool(value)
                elif name == "teslemetry_scopes":
                    self.teslemetry_settings.scopes = [str(s) for s in value]
                elif name == "tariff_apply_delay":
                    self.energy_site.tariff_apply_delay = float(value)
                else:
                    unknown.append(name)
        return unknown

    def switches(self) -> dict[str, Any]:
        """Current behaviour switches."""
        with self.lock:
            return {
                "billing_disabled": self.fleet_settings.billing_disabled,
                "user_region": self.fleet_settings.user_region,
                "refuse_commands": self.energy_site.refuse_commands,
                "amber_rate_limit": self.amber.limiter.limit,
                "teslemetry_rate_limit": self.teslemetry.limiter.limit,
                "honour_resolution_30": self.amber_settings.honour_resolution_30,
                "expires_in": self.oauth_settings.expires_in,
                "require_pkce": self.oauth_settings.require_pkce,
                "declined_scopes": sorted(self.oauth_settings.declined_scopes),
                "deny_consent": self.oauth_settings.deny_consent,
                "strict_refresh": self.oauth_settings.strict_refresh,
                "teslemetry_subscription_active": self.teslemetry_settings.subscription_active,
                "teslemetry_scopes": list(self.teslemetry_settings.scopes),
                "tariff_apply_delay": self.energy_site.tariff_apply_delay,
            }

"""Teslemetry: the Fleet API's energy paths behind a static token, plus its own extras."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from amber_tesla_sync.sandbox.energy_api import category, energy_request
from amber_tesla_sync.sandbox.energy_site import EnergySite
from amber_tesla_sync.sandbox.envelope import error, ok
from amber_tesla_sync.sandbox.ratelimit import FixedWindowLimiter
from amber_tesla_sync.sandbox.wire import Request, Response, json_response

DEFAULT_SCOPES = (
    "openid",
    "offline_access",
    "user_data",
    "vehicle_device_data",
    "vehicle_cmds",
    "vehicle_charging_cmds",
    "energy_device_data",
    "energy_cmds",
)


@dataclass
class TeslemetrySettings:
    """Behaviour switches of Teslemetry."""

    subscription_active: bool = True
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))


class TeslemetryService:
    """Routes ``/teslemetry/...`` requests."""

    def __init__(
        self,
        *,
        token: str,
        uid: str,
        site: EnergySite,
        fleet_base_url: Callable[[], str],
        clock: Callable[[], datetime],
        limiter: FixedWindowLimiter,
        settings: TeslemetrySettings,
    ) -> None:
        self._token = token
        self._uid = uid
        self._site = site
        self.others: dict[str, EnergySite] = {}  # further Powerwalls (see SandboxApp)
        self._fleet_base_url = fleet_base_url
        self._clock = clock
        self.limiter = limiter
        self.settings = settings

    def handle(self, request: Request, path: str) -> Response:
        """Answer one request; ``path`` is relative to the Teslemetry base URL."""
        response = self._handle(request, path)
        if path.startswith("/api/1/"):
            response.category = category(request.method)
        return response

    def _handle(self, request: Request, path: str) -> Response:
        path = path.rstrip("/") or "/"
        if path == "/api/ping" and request.method == "GET":
            return ok(True)
        token = request.bearer()
        if token is None:
            token = request.param("token")
        if not token:
            return error(401, "missing_token", "Provide a Teslemetry access token")
        if token != self._token:
            response = error(401, "invalid_token", "The Teslemetry access token is not valid")
            response.token_kind = "invalid"
            return response
        decision = self.limiter.hit(token, self._clock())
        if not decision.allowed:
            response = error(429, "rate_limited", "Too many requests, slow down")
            response.headers.append(("Retry-After", str(max(1, decision.reset_seconds))))
            response.token_kind = "teslemetry"
            return response
        response = self._authorised(request, path)
        response.token_kind = "teslemetry"
        return response

    def _authorised(self, request: Request, path: str) -> Response:
        if not self.settings.subscription_active:
            return error(402, "subscription_required", "An active subscription is required")
        now = self._clock()
        if request.method == "GET":
            if path == "/api/test":
                return ok(True)
            if path == "/api/metadata":
                return json_response(200, self.metadata())
            if path == "/api/1/products":
                return ok([self._site.product(now)], count=1)
            if path == "/api/1/users/region":
                return ok({"region": "na", "fleet_api_base_url": self._fleet_base_url()})
        response = energy_request(
            self._site, request, path, tuple(self.settings.scopes), self._clock(), self.others
        )
        if response is None:
            return error(404, "not_found", f"no such endpoint: {request.method} {path}")
        return response

    def metadata(self) -> dict[str, Any]:
        """The body of ``GET /api/metadata``."""
        site_id = str(self._site.energy_site_id)
        return {
            "uid": self._uid,
            "region": "NA",
            "scopes": list(self.settings.scopes),
            "vehicles": {},
            "energy_sites": {site_id: {"name": self._site.site_name, "access": True}},
            "subscription": {"active": self.settings.subscription_active},
        }

"""The Tesla Fleet API's regional hosts (``/fleet/na``, ``/fleet/eu``) as served by the sandbox.

Checks, in order: bearer token (401), billing (402), partner endpoints (partner token only),
region (421 for user calls on the wrong host, ``users/region`` excepted), partner registration
in the host's region (412), scopes (403), then the endpoint itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from amber_tesla_sync.sandbox.energy_api import category, energy_request
from amber_tesla_sync.sandbox.energy_site import EnergySite
from amber_tesla_sync.sandbox.envelope import error, ok
from amber_tesla_sync.sandbox.oauth import OAuthServer
from amber_tesla_sync.sandbox.partners import WELL_KNOWN, PartnerRegistry, public_key_hex
from amber_tesla_sync.sandbox.wire import Request, Response

REGIONS = ("na", "eu")
DOCS = "https://developer.tesla.com/docs/fleet-api"


@dataclass
class FleetSettings:
    """Behaviour switches of the Fleet API."""

    user_region: str = "na"
    billing_disabled: bool = False


class FleetService:
    """Routes ``/fleet/{region}/api/1/...`` requests."""

    def __init__(
        self,
        *,
        oauth: OAuthServer,
        site: EnergySite,
        partners: PartnerRegistry,
        base_url: Callable[[str], str],
        clock: Callable[[], datetime],
        settings: FleetSettings,
        app_name: str = "amber-tesla-sync",
    ) -> None:
        self._oauth = oauth
        self._site = site
        self.others: dict[str, EnergySite] = {}  # further Powerwalls (see SandboxApp)
        self._partners = partners
        self._base_url = base_url
        self._clock = clock
        self.settings = settings
        self._app_name = app_name

    def handle(self, request: Request, region: str, path: str) -> Response:
        """Answer one request; ``path`` is relative to the regional host."""
        response = self._handle(request, region, path)
        if path.startswith("/api/1/"):
            response.category = category(request.method)
        return response

    def _handle(self, request: Request, region: str, path: str) -> Response:
        if region not in REGIONS or not path.startswith("/api/1/"):
            return error(404, "not_found", f"no such endpoint: {request.method} {path}")
        token = request.bearer()
        if not token:
            return error(401, "invalid bearer token", "missing bearer token")
        check = self._oauth.check(token)
        if check.status == "unknown" or check.grant is None:
            response = error(401, "invalid bearer token")
            response.token_kind = "invalid"
            return response
        kind = check.grant.kind
        if check.status == "expired":
            response = error(401, "token expired (401)")
            response.token_kind = f"{kind}-expired"
            return response
        response = self._authorised(request, region, path, kind, check.grant.scopes)
        response.token_kind = kind
        return response

    def _authorised(
        self, request: Request, region: str, path: str, kind: str, scopes: tuple[str, ...]
    ) -> Response:
        if self.settings.billing_disabled:
            return error(
                402,
                "Payment required",
                "Billing is disabled for this application: add a payment method at "
                "developer.tesla.com",
            )
        if path.rstrip("/").startswith("/api/1/partner_accounts"):
            if kind != "partner":
                return error(403, "Unauthorized", "this endpoint requires a partner token")
            return self._partner(request, region, path)
        if kind == "partner":
            if path.rstrip("/") == "/api/1/products" and request.method == "GET":
                return ok([], count=0)
            return error(403, "Unauthorized", "a partner token cannot access user data")
        if region != self.settings.user_region and path.rstrip("/") != "/api/1/users/region":
            right = self._base_url(self.settings.user_region)
            return error(
                421, f"user out of region, use base URL: {right}, see {DOCS}#regional-requirements"
            )
        if self._partners.get(region) is None:
            return error(
                412,
                f"Account {self._oauth.client.client_id} must be registered in the current "
                f"region {self._base_url(region)}, please see {DOCS}#register",
            )
        now = self._clock()
        if request.method == "GET" and path.rstrip("/") == "/api/1/users/region":
            user_region = self.settings.user_region
            return ok({"region": user_region, "fleet_api_base_url": self._base_url(user_region)})
        if request.method == "GET" and path.rstrip("/") == "/api/1/products":
            return ok([self._site.product(now)], count=1)
        response = energy_request(self._site, request, path, scopes, now, self.others)
        if response is None:
            return error(404, "not_found", f"no such endpoint: {request.method} {path}")
        return response

    def _partner(self, request: Request, region: str, path: str) -> Response:
        path = path.rstrip("/")
        if path == "/api/1/partner_accounts" and request.method == "POST":
            return self._register(request, region)
        if path == "/api/1/partner_accounts/public_key" and request.method == "GET":
            domain = request.param("domain") or ""
            registration = self._partners.get(region)
            if registration is None or registration.domain.lower() != domain.lower():
                return error(404, "not_found", f"no public key registered for domain {domain}")
            return ok({"public_key": registration.public_key})
        return error(404, "not_found", f"no such endpoint: {request.method} {path}")

    def _register(self, request: Request, region: str) -> Response:
        try:
            body = request.json()
        except ValueError:
            return error(400, "invalid_command", "request body is not valid JSON")
        domain = body.get("domain") if isinstance(body, dict) else None
        if not isinstance(domain, str) or not domain:
            return error(400, "invalid_field", "domain is required")
        if not self._partners.domain_allowed(domain):
            return error(
                400,
                f"Root domain {domain} must match registered allowed origin "
                f"{self._partners.allowed_domain}",
            )
        url = f"https://{domain}{WELL_KNOWN}"
        pem = self._partners.fetch_key(domain)
        if pem is None:
            return error(400, f"Public key download failed for url {url}")
        try:
            key = public_key_hex(pem)
        except ValueError as exc:
            return error(400, f"Public key at {url} is invalid: {exc}")
        now = self._clock().isoformat()
        registration = self._partners.register(region, domain, key, now)
        return ok(
            {
                "account_id": registration.account_id,
                "domain": domain,
                "name": self._app_name,
                "description": "amber-tesla-sync sandbox application",
                "client_id": self._oauth.client.client_id,
                "ca": None,
                "created_at": now,
                "updated_at": now,
                "enterprise_tier": "pay_as_you_go",
                "issuer": None,
                "csr": None,
                "csr_updated_at": None,
                "public_key": key,
            }
        )

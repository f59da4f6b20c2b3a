"""The Amber Electric public API (``/v1``) as served by the sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from amber_tesla_sync.sandbox.amber_intervals import MAX_INTERVALS, current_prices
from amber_tesla_sync.sandbox.amber_sites import AmberSite
from amber_tesla_sync.sandbox.ratelimit import FixedWindowLimiter
from amber_tesla_sync.sandbox.wire import Request, Response, json_response

_PRICES_CURRENT = re.compile(r"^/sites/([^/]+)/prices/current/?$")
_SITES = re.compile(r"^/sites/?$")


@dataclass
class AmberSettings:
    """Behaviour switches of the Amber service."""

    honour_resolution_30: bool = False
    """Whether ``resolution=30`` is honoured on 5-minute sites (the live API ignores it)."""


def _forbidden() -> Response:
    return json_response(
        403, {"message": "Forbidden"}, [("x-amzn-ErrorType", "AccessDeniedException")]
    )


def _message(status: int, text: str) -> Response:
    return json_response(status, {"message": text})


class AmberService:
    """Routes ``/amber/v1/...`` requests."""

    def __init__(
        self,
        *,
        seed: int,
        sites: tuple[AmberSite, ...],
        tokens: dict[str, str],
        clock: Callable[[], datetime],
        limiter: FixedWindowLimiter,
        settings: AmberSettings,
    ) -> None:
        self._seed = seed
        self._sites = {s.id: s for s in sites}
        self._site_list = sites
        self._tokens = tokens
        self._clock = clock
        self.limiter = limiter
        self.settings = settings

    def handle(self, request: Request, path: str) -> Response:
        """Answer one request; ``path`` is relative to ``/v1``."""
        response = self._handle(request, path)
        response.category = "api"
        return response

    def _handle(self, request: Request, path: str) -> Response:
        routed = request.method == "GET" and (
            _SITES.match(path) is not None or _PRICES_CURRENT.match(path) is not None
        )
        if not routed:
            return _forbidden()
        token = request.bearer()
        if token is None:
            response = _message(401, "Unauthorized")
            response.token_kind = "none"
            return response
        account = self._tokens.get(token)
        if account is None:
            response = _forbidden()
            response.token_kind = "invalid"
            return response
        decision = self.limiter.hit(account, self._clock())
        if not decision.allowed:
            response = json_response(
                429,
                {"message": "Too Many Requests"},
                [
                    ("x-amzn-ErrorType", "TooManyRequestsException"),
                    ("X-Cache", "Error from cloudfront"),
                ],
            )
            response.token_kind = "amber"
            return response
        response = self._route(request, path)
        response.token_kind = "amber"
        response.headers.extend(
            [
                ("RateLimit-Limit", str(decision.limit)),
                ("RateLimit-Remaining", str(decision.remaining)),
                ("RateLimit-Reset", str(decision.reset_seconds)),
                ("RateLimit-Policy", f"{decision.limit};w={self.limiter.window_seconds}"),
            ]
        )
        return response

    def _route(self, request: Request, path: str) -> Response:
        if _SITES.match(path):
            return json_response(200, [s.to_json() for s in self._site_list])
        match = _PRICES_CURRENT.match(path)
        assert match is not None
        site = self._sites.get(match.group(1))
        if site is None:
            return _message(404, "Site not found")
        return self._prices_current(request, site)

    def _prices_current(self, request: Request, site: AmberSite) -> Response:
        values: dict[str, int] = {}
        for name in ("next", "previous", "resolution"):
            raw = request.param(name)
            if raw is None or raw == "":
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                return _message(400, f"{name} must be an integer")
            if values[name] < 0:
                return _message(400, f"{name} must not be negative")
        resolution = values.get("resolution")
        if resolution is not None and resolution not in (5, 30):
            return _message(400, "resolution must be 5 or 30")
        next_ = values.get("next", 0)
        previous = values.get("previous", 0)
        if next_ + previous > MAX_INTERVALS:
            return _message(
                422, f"The total number of intervals requested must not exceed {MAX_INTERVALS}"
            )
        if (
            resolution == 30
            and site.interval_length == 5
            and not self.settings.honour_resolution_30
        ):
            resolution = None
        body = current_prices(self._seed, site, self._clock(), next_, previous, resolution)
        return json_response(200, body)

"""The Amber Electric public API (``/v1``) as served by the sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from amber_tesla_sync.sandbox.amber_intervals import MAX_INTERVALS, current_prices
from amber_tesla_sync.sandbox.amber_ranges import RangeError, parse_range, prices_by_date
from amber_tesla_sync.sandbox.amber_renewables import STATES, current_renewables
from amber_tesla_sync.sandbox.amber_sites import AmberSite
from amber_tesla_sync.sandbox.amber_usage import usage_body
from amber_tesla_sync.sandbox.meters import Meters
from amber_tesla_sync.sandbox.ratelimit import FixedWindowLimiter
from amber_tesla_sync.sandbox.wire import Request, Response, json_response

_SITE_PATH = re.compile(r"^/sites/([^/]+)/(prices/current|prices|usage)/?$")
_SITES = re.compile(r"^/sites/?$")
_RENEWABLES = re.compile(r"^/state/([^/]+)/renewables/current/?$")


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
        meters: Meters,
    ) -> None:
        self._seed = seed
        self._sites = {s.id: s for s in sites}
        self._site_list = sites
        self._tokens = tokens
        self._clock = clock
        self.limiter = limiter
        self.settings = settings
        self._meters = meters

    def handle(self, request: Request, path: str) -> Response:
        """Answer one request; ``path`` is relative to ``/v1``."""
        response = self._handle(request, path)
        response.category = "api"
        return response

    def _handle(self, request: Request, path: str) -> Response:
        routed = request.method == "GET" and (
            _SITES.match(path) is not None or _SITE_PATH.match(path) is not None
        )
        renewables = _RENEWABLES.match(path)
        if request.method == "GET" and renewables is not None:
            response = self._renewables(request, renewables.group(1))
            response.token_kind = "none"
            return response
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
        match = _SITE_PATH.match(path)
        assert match is not None
        site = self._sites.get(match.group(1))
        if site is None:
            return _message(404, "Site not found")
        operation = match.group(2)
        if operation == "prices/current":
            return self._prices_current(request, site)
        now = self._clock()
        try:
            span = parse_range(
                request.param("startDate"),
                request.param("endDate"),
                now,
                required=operation == "usage",
            )
        except RangeError as exc:
            return _message(exc.status, str(exc))
        if operation == "usage":
            body = usage_body(
                self._seed,
                site,
                now,
                span,
                lambda s, start, end: self._meters.readings(s, start, end, now),
            )
            return json_response(200, body)
        values = _integers(request, ("resolution",))
        if isinstance(values, Response):
            return values
        resolution = self._resolution(site, values.get("resolution"))
        if isinstance(resolution, Response):
            return resolution
        return json_response(200, prices_by_date(self._seed, site, now, span, resolution))

    def _resolution(self, site: AmberSite, resolution: int | None) -> int | Response | None:
        if resolution is not None and resolution not in (5, 30):
            return _message(400, "resolution must be 5 or 30")
        if (
            resolution == 30
            and site.interval_length == 5
            and not self.settings.honour_resolution_30
        ):
            return None
        return resolution

    def _prices_current(self, request: Request, site: AmberSite) -> Response:
        values = _integers(request, ("next", "previous", "resolution"))
        if isinstance(values, Response):
            return values
        next_ = values.get("next", 0)
        previous = values.get("previous", 0)
        resolution = self._resolution(site, values.get("resolution"))
        if isinstance(resolution, Response):
            return resolution
        if next_ + previous > MAX_INTERVALS:
            return _message(
                422, f"The total number of intervals requested must not exceed {MAX_INTERVALS}"
            )
        body = current_prices(self._seed, site, self._clock(), next_, previous, resolution)
        return json_response(200, body)

    def _renewables(self, request: Request, state: str) -> Response:
        region = STATES.get(state)
        if region is None:
            return _message(404, f"State {state} not found. Valid states: nsw, sa, qld, vic")
        values = _integers(request, ("next", "previous", "resolution"))
        if isinstance(values, Response):
            return values
        resolution = values.get("resolution", 30)
        if resolution not in (5, 30):
            return _message(400, "resolution must be 5 or 30")
        next_, previous = values.get("next", 0), values.get("previous", 0)
        if next_ + previous > MAX_INTERVALS:
            return _message(
                422, f"The total number of intervals requested must not exceed {MAX_INTERVALS}"
            )
        body = current_renewables(self._seed, region, self._clock(), next_, previous, resolution)
        return json_response(200, body)


def _integers(request: Request, names: tuple[str, ...]) -> dict[str, int] | Response:
    """Non-negative integer query parameters (absent or empty ones left out)."""
    values: dict[str, int] = {}
    for name in names:
        raw = request.param(name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            return _message(400, f"{name} must be an integer")
        if values[name] < 0:
            return _message(400, f"{name} must not be negative")
    return values

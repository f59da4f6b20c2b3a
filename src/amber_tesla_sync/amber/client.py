"""The Amber API client: sites and current prices, with bounded retries. Only this module knows
Amber's URLs and wire format; the token never appears in logs or errors."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any, Self, TypeVar

import httpx

from amber_tesla_sync import redact
from amber_tesla_sync.amber.models import Interval, Site, parse_intervals, parse_sites
from amber_tesla_sync.errors import AuthError, DataError, ServiceError
from amber_tesla_sync.httpbase import (
    NetworkPolicy,
    Transient,
    call_with_retries,
    make_client,
    retry_after,
    transport_failure,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
LOGIN_HINT = (
    "run `amber-tesla-sync login amber` with a valid API key (Amber app → Settings → Developer)"
)


def intervals_to_request(interval_length: int) -> tuple[int, int]:
    """``next`` and ``previous`` for one run: ≥ 25 h ahead (the day daylight saving ends has 25
    hours) and 24 h back for the persistence estimate, counted at the billing resolution."""
    per_hour = 60 // interval_length
    return 25 * per_hour, 24 * per_hour


class AmberClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        policy: NetworkPolicy | None = None,
    ) -> None:
        self.policy = policy or NetworkPolicy()
        self._http = make_client(
            base_url.rstrip("/") + "/", self.policy.timeout, {"Authorization": f"Bearer {token}"}
        )
        self.requests = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def sites(self) -> list[Site]:
        return self._get(
            "sites", {}, "listing Amber sites", lambda body: parse_sites(body, "Amber's site list")
        )

    def current_prices(
        self, site_id: str, next_: int, previous: int, resolution: int | None = None
    ) -> list[Interval]:
        params: dict[str, Any] = {"next": next_, "previous": previous}
        if resolution is not None:
            params["resolution"] = resolution
        return self._get(
            f"sites/{site_id}/prices/current",
            params,
            "fetching Amber prices",
            lambda body: _within_range(parse_intervals(body, "Amber's price response")),
        )

    def _get(self, path: str, params: dict[str, Any], what: str, parse: Callable[[Any], T]) -> T:
        """GET ``path`` and ``parse`` the body. A body that does not parse is retried like a
        truncated one; if every attempt got malformed data, that is bad data (exit 4) and the
        error names every problem found."""

        def attempt() -> T:
            self.requests += 1
            try:
                response = self._http.get(path, params=params)
            except httpx.HTTPError as error:
                raise transport_failure(error) from error
            body = self._decode(response, path)
            try:
                return parse(body)
            except DataError as error:
                raise _Malformed(error) from None

        try:
            return call_with_retries(attempt, self.policy, what)
        except _Malformed as malformed:
            raise DataError(
                f"{what} failed: Amber sent malformed data "
                f"(tried {self.policy.attempts} times): {malformed.error.message}",
                "nothing was changed and the Powerwall keeps its tariff; the next run will try "
                "again (if this persists, Amber's API may have changed: please report it)",
            ) from None
        except Transient as error:
            raise ServiceError(
                f"{what} failed: {error.description}"
                + (f" (tried {self.policy.attempts} times)" if error.retry_after is None else ""),
                "Amber may be having problems or the network is down; the next run will try "
                "again (nothing was changed)",
            ) from None

    def _decode(self, response: httpx.Response, path: str) -> Any:
        status = response.status_code
        log.debug("Amber GET %s → %d", path, status)
        if status in (401, 403):
            raise AuthError(f"the Amber token is not valid (Amber answered {status})", LOGIN_HINT)
        if status == 404:
            raise ServiceError(
                f"Amber does not know this site or path ({path.split('/', maxsplit=1)[0]}: 404)",
                "check amber.site_id (`amber-tesla-sync login amber` picks a site) and "
                "amber.base_url",
            )
        if status == 429:
            wait = retry_after(response)
            raise Transient(
                "Amber's rate limit (50 requests per 5 minutes per account) was reached"
                + (f"; it asks to wait {wait:.0f} s" if wait is not None else ""),
                wait,
            )
        if status >= 500:
            raise Transient(
                f"Amber answered {status} ({_message(response)})", retry_after(response)
            )
        if status != 200:
            raise ServiceError(
                f"Amber refused the request: {status} ({_message(response)})",
                "this looks like a bug in amber-tesla-sync; please report it",
            )
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Transient("Amber sent a malformed response (not JSON)") from None


PRICE_LIMIT = 100_000.0  # c/kWh: far beyond any market cap; beyond it the numbers are garbage


def _within_range(intervals: list[Interval]) -> list[Interval]:
    """No price that arithmetic cannot take (infinite, not a number, or absurdly large)."""
    bad = []
    for item in intervals:
        advanced = item.advanced_price
        prices = [item.per_kwh, item.spot_per_kwh]
        prices += [advanced.low, advanced.predicted, advanced.high] if advanced else []
        if any(p is not None and not (math.isfinite(p) and abs(p) <= PRICE_LIMIT) for p in prices):
            bad.append(f"{item.channel_type} ending {item.end_time.isoformat()}")
    if bad:
        raise DataError(
            f"Amber's price response has prices out of range (beyond ±{PRICE_LIMIT:,.0f} c/kWh) "
            f"in {len(bad)} intervals, e.g. {', '.join(bad[:3])}",
            "nothing was pushed; the next run will try again",
        )
    return intervals


class _Malformed(Transient):
    """A body that does not parse (retried; bad data if it stays so)."""

    def __init__(self, error: DataError) -> None:
        super().__init__(f"Amber sent a malformed response ({error.message.splitlines()[0]})")
        self.error = error


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "no details"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return redact.server_text(str(body["message"]), 200) or "no details"
    return "no details"

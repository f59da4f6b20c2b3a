"""One connection to the Tesla energy API: Fleet (regional host, rotating tokens) or Teslemetry
(static token). Both share every path and body; only the base URL and the token differ.

Handles: the ``{"response": …}`` wrapper; 401 → refresh once and retry once; 421 → switch to
the host named in the error and retry once; 5xx, timeouts and dropped connections → bounded
retries; everything else → a clear error with the next step. The token never appears in logs or
errors.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from amber_tesla_sync.errors import AppError, AuthError, ServiceError, UnavailableError
from amber_tesla_sync.support import redact
from amber_tesla_sync.support.http import (
    NetworkPolicy,
    Transient,
    call_with_retries,
    make_client,
    retry_after,
    transport_failure,
)
from amber_tesla_sync.tesla.hosts import check_region_url
from amber_tesla_sync.tesla.tokens import TokenSource

log = logging.getLogger(__name__)
_REGION_URL = re.compile(r"use base URL:\s*([^\s,;]+)", re.IGNORECASE)

LOGIN = {"fleet": "amber-tesla-sync login fleet", "teslemetry": "amber-tesla-sync login teslemetry"}
NAMES = {"fleet": "the Tesla Fleet API", "teslemetry": "Teslemetry"}
# a body that is not JSON, not UTF-8, or nested deeper than the parser follows
UNREADABLE = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)


class TeslaConnection:
    # one backend: nothing to fall back from (see tesla.fallback)
    fleet_error: AppError | None = None
    primary_worked = False

    def __init__(
        self,
        backend: str,
        base_url: str,
        tokens: TokenSource,
        policy: NetworkPolicy | None = None,
        on_base_url_change: Callable[[str], None] | None = None,
        configured: tuple[str, ...] = (),
    ) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        # hosts a 421 may switch to besides Tesla's documented ones (see tesla.hosts)
        self.configured = configured or (self.base_url,)
        self.tokens = tokens
        self.policy = policy or NetworkPolicy()
        self.on_base_url_change = on_base_url_change
        self.requests: Counter[str] = Counter()  # "GET" / "POST" → count
        self.name = NAMES.get(backend, backend)
        self._http: httpx.Client | None = None  # one client (and TLS context) per host

    def _client(self) -> httpx.Client:
        if self._http is None or str(self._http.base_url).rstrip("/") != self.base_url:
            if self._http is not None:
                self._http.close()
            self._http = make_client(self.base_url, self.policy.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The ``response`` of a call (its payload), after at most one refresh and one switch."""
        token = self.tokens.token()
        refreshed = switched = False
        while True:
            try:
                return self._with_retries(method, path, body, token)
            except _Unauthorized:
                if refreshed:
                    raise AuthError(
                        f"{self.name} rejected the access token even after a refresh",
                        f"run `{LOGIN[self.backend]}`",
                    ) from None
                new = self.tokens.refresh_after_rejection(token)
                if new is None:
                    raise AuthError(
                        f"{self.name} rejected the token (401)", f"run `{LOGIN[self.backend]}`"
                    ) from None
                token, refreshed = new, True
            except _WrongRegion as wrong:
                if switched or wrong.url is None:
                    raise ServiceError(
                        f"{self.name} says this account is served by another region "
                        f"({wrong.message})",
                        "run `amber-tesla-sync login fleet` to resolve the region again",
                    ) from None
                url = check_region_url(
                    wrong.url, self.configured, f"{self.name}'s 421 answer", self.backend
                )
                log.warning("switching the Fleet API host to %s (Tesla answered 421)", url)
                self.base_url = url
                if self.on_base_url_change is not None:
                    self.on_base_url_change(self.base_url)
                switched = True

    def _with_retries(self, method: str, path: str, body: Any, token: str) -> Any:
        what = f"{method} {path} on {self.name}"

        def attempt() -> Any:
            self.requests[method] += 1
            try:
                response = self._client().request(
                    method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as error:
                raise transport_failure(error) from error
            return self._decode(response, what)

        try:
            return call_with_retries(attempt, self.policy, what)
        except Transient as error:
            raise UnavailableError(
                f"{what} failed: {error.description}",
                f"{self.name} may be having problems or the Powerwall is offline; nothing more "
                "was changed, and the next run will try again",
            ) from None

    def _decode(self, response: httpx.Response, what: str) -> Any:
        status = response.status_code
        txid = response.headers.get("x-txid")
        log.debug("%s → %d%s", what, status, f" (txid {txid})" if txid else "")
        if status >= 500:
            raise Transient(f"{status} ({_error_text(response)})", retry_after(response))
        if status == 429:  # billed: wait only when told how long, else end the run (_failure)
            wait = retry_after(response)
            if wait is not None:
                raise Transient(f"rate limited by {self.name}; it asks to wait {wait:.0f} s", wait)
        try:
            payload = response.json()
        except UNREADABLE:
            if status == 200:
                raise Transient("a malformed response (not JSON)") from None
            payload = None
        text = _error_text(response, payload)
        if status == 200:
            if not isinstance(payload, dict) or "response" not in payload:
                raise Transient("a malformed response (no 'response')")
            result = payload["response"]
            if isinstance(result, dict) and result.get("result") is False:
                reason = redact.server_text(str(result.get("reason") or "")) or "no reason given"
                raise ServiceError(
                    f"{what}: Tesla refused the command: {reason}",
                    "check the Powerwall's settings in the Tesla app (installer- or VPP-locked "
                    "sites refuse some changes)",
                )
            return result
        if status == 401:
            raise _Unauthorized
        if status == 421:
            match = _REGION_URL.search(text)
            raise _WrongRegion(text, match.group(1) if match else None)
        raise self._failure(status, text, what)

    def _failure(self, status: int, text: str, what: str) -> Exception:
        login = f"`{LOGIN[self.backend]}`"
        if status == 402:
            hint = (
                "add a payment method or raise the billing limit of your app at "
                "developer.tesla.com (Tesla disables apps past their free credit)"
                if self.backend == "fleet"
                else "check your Teslemetry subscription (an energy site subscription is needed)"
            )
            return UnavailableError(f"{what}: payment required ({text})", hint)
        if status == 403:
            return AuthError(
                f"{what}: the token lacks a needed permission ({text})",
                f"run {login} again and grant energy data and energy commands"
                + (" (it asks Tesla for the missing scopes)" if self.backend == "fleet" else ""),
            )
        if status == 412:
            return NotRegistered(
                f"{what}: the partner account is not registered in this region ({text})",
                "run `amber-tesla-sync register --domain YOUR_DOMAIN`",
            )
        if status == 404:
            return ServiceError(
                f"{what}: not found ({text})",
                "check tesla.energy_site_id (`amber-tesla-sync login` lists your sites)",
            )
        if status == 408:
            return ServiceError(
                f"{what}: the Powerwall gateway is offline ({text})", "try again later"
            )
        if status == 429:
            return UnavailableError(
                f"{what}: rate limited by {self.name} ({text})",
                "this run stops here to avoid more (billed) requests; the next run will try again",
            )
        return Refused(
            status, f"{what}: {status} ({text})", "see the message above; nothing more was changed"
        )


class NotRegistered(AuthError):
    """412: the app's partner account is not registered in this region."""


class Refused(ServiceError):
    """Tesla refused a request for a reason of its own (a 4xx without a meaning of ours)."""

    def __init__(self, status: int, message: str, hint: str) -> None:
        super().__init__(message, hint)
        self.status = status


class _Unauthorized(Exception):
    pass


class _WrongRegion(Exception):
    def __init__(self, message: str, url: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url


def _error_text(response: httpx.Response, payload: Any = None) -> str:
    if payload is None:
        try:
            payload = response.json()
        except UNREADABLE:
            return f"HTTP {response.status_code}"
    if isinstance(payload, dict):
        parts = [str(payload[key]) for key in ("error", "error_description") if payload.get(key)]
        if parts:
            return redact.server_text(": ".join(parts)) or f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}"

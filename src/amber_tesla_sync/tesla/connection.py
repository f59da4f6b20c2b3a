"""One connection to the Tesla energy API: Fleet (regional host, rotating tokens) or Teslemetry
(static token). Both share every path and body; only the base URL and the token differ.

Handles: the ``{"response": …}`` wrapper; 401 → refresh once and retry once; 421 → switch to
the host named in the error and retry once; 5xx, timeouts and dropped connections → bounded
retries; everything else → a clear error with the next step. The token never appears in logs or
errors.

A write is never repeated once it may have been carried out. A tariff push
(:data:`SENT_ONCE`) whose answer is lost after the request went out (a timeout or a dropped
connection after sending, a 504 from Tesla's gateway) raises :class:`~amber_tesla_sync.tesla.lost.
AnswerLost` instead of being retried; so does any command answered with a success status (2xx)
whose body cannot be read. Other commands set a value (the mode, the export rule): sending them
again after a timeout is harmless, so they are retried like reads. A 5xx answer from Tesla's own
servers (500, 502, 503) means the command was not carried out: it is retried, and fails in the
end as a refusal does ("nothing was accepted").
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
from amber_tesla_sync.support.bounds import DeadlinePassed
from amber_tesla_sync.support.http import (
    NetworkPolicy,
    Transient,
    call_with_retries,
    make_client,
    retry_after,
    transport_failure,
)
from amber_tesla_sync.tesla.hosts import check_region_url
from amber_tesla_sync.tesla.lost import AnswerLost
from amber_tesla_sync.tesla.tokens import TokenSource

log = logging.getLogger(__name__)
_REGION_URL = re.compile(r"use base URL:\s*([^\s,;]+)", re.IGNORECASE)

LOGIN = {"fleet": "amber-tesla-sync login fleet", "teslemetry": "amber-tesla-sync login teslemetry"}
NAMES = {"fleet": "the Tesla Fleet API", "teslemetry": "Teslemetry"}
# a body that is not JSON, not UTF-8, or nested deeper than the parser follows
UNREADABLE = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)
# writes sent at most once per run: never repeated once they may have reached Tesla (read back
# instead); the path ends with one of these
SENT_ONCE = ("/time_of_use_settings",)
# failures that happen before any byte of the request is sent (anything else may have reached it)
NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
    httpx.LocalProtocolError,
)


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
        write = method != "GET"
        once = write and path.endswith(SENT_ONCE)

        def attempt() -> Any:
            self.requests[method] += 1
            try:
                response = self._client().request(
                    method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as error:
                failure = transport_failure(error)
                if once and maybe_sent(error):
                    raise self._lost(what, failure.description) from None
                raise failure from error
            return self._decode(response, what, write=write, once=once)

        try:
            return call_with_retries(attempt, self.policy, what)
        except Transient as error:
            raise UnavailableError(
                f"{what} failed: {error.description}",
                f"{self.name} may be having problems or the Powerwall is offline; nothing more "
                "was changed, and the next run will try again",
            ) from None

    def _decode(
        self, response: httpx.Response, what: str, *, write: bool = False, once: bool = False
    ) -> Any:
        status = response.status_code
        txid = response.headers.get("x-txid")
        log.debug("%s → %d%s", what, status, f" (txid {txid})" if txid else "")
        success = 200 <= status < 300
        if status == 504 and once:  # the gateway gave up waiting: the push may have been made
            raise self._lost(what, f"504 ({_error_text(response)})")
        if status >= 500:
            raise Transient(f"{status} ({_error_text(response)})", retry_after(response))
        if status == 429:  # billed: wait only when told how long, else end the run (_failure)
            wait = retry_after(response)
            if wait is not None:
                raise Transient(f"rate limited by {self.name}; it asks to wait {wait:.0f} s", wait)
        try:
            payload = response.json()
        except UNREADABLE:
            if success:
                if write:  # accepted, its result unreadable: sending it again could repeat it
                    raise self._lost(what, f"a {status} answer that is not JSON") from None
                raise Transient("a malformed response (not JSON)") from None
            payload = None
        text = _error_text(response, payload)
        if success:
            if not isinstance(payload, dict) or "response" not in payload:
                if write:
                    raise self._lost(what, f"a {status} answer without its 'response'")
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

    def _lost(self, what: str, why: str) -> AnswerLost:
        log.warning("%s: sent, but its answer was lost (%s); not sent again", what, why)
        return AnswerLost(
            f"{what}: sent, but its answer was lost ({why}); {self.name} may have carried it out",
            "it is not sent again blindly: check the Powerwall (`amber-tesla-sync status`) "
            "before trying again",
            why,
        )

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


def maybe_sent(error: BaseException) -> bool:
    """Whether a request that failed this way may have reached the server: anything but a
    failure to connect (or a deadline that passed before the request was sent)."""
    if isinstance(error, DeadlinePassed):
        cause = error.__cause__
        # a bare TimeoutError: the deadline had passed before the request was sent
        return not isinstance(cause, (TimeoutError, *NOT_SENT))
    return not isinstance(error, NOT_SENT)


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

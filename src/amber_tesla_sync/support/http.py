"""Shared HTTP plumbing: one httpx client per service, bounded retries with tenacity.

Every request has a total deadline (``NetworkPolicy.timeout``: connecting, sending and the whole
answer, not each read of it), a ``sync`` run has one for all its requests and retries, and an
answer's body is capped, compressed and decompressed (:mod:`amber_tesla_sync.support.bounds`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import httpx

from amber_tesla_sync import __version__
from amber_tesla_sync.support.bounds import BodyTooLarge, Bounded, DeadlinePassed, run_left

if TYPE_CHECKING:
    from tenacity import RetryCallState

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_AGENT = f"amber-tesla-sync/{__version__}"


@dataclass(frozen=True)
class NetworkPolicy:
    """Timeouts and retries. ``timeout`` bounds each request in all (connecting, sending, the
    whole answer); ``backoff`` is the first wait (doubling); a server asking to wait longer than
    ``max_wait`` seconds is not waited for."""

    timeout: float = 20.0
    attempts: int = 3
    backoff: float = 1.0
    max_wait: float = 30.0


class Transient(Exception):
    """A failure worth retrying: 5xx, 429, a timeout, a dropped connection, a garbled body."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After`` (seconds or an HTTP date); on a 429
    also the longest ``RateLimit-Reset`` / ``RateLimit-<name>-Reset`` (seconds: when the rate
    limit's window ends, which says nothing about a server error). None when it does not say (or
    says something unreadable)."""
    asked = _seconds(response.headers.get("retry-after"), dates=True)
    if asked is not None or response.status_code != 429:
        return asked
    resets = [
        _seconds(value)
        for name, value in response.headers.items()
        if name.lower().startswith("ratelimit-") and name.lower().endswith("-reset")
    ]
    known = [reset for reset in resets if reset is not None]
    return max(known) if known else None


def _seconds(value: str | None, dates: bool = False) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    if not dates:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - time.time())


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one TLS context of the process, as httpx makes it by default (certificates verified
    against its CA bundle). Every client shares it: loading the bundle again for each client
    (Amber, Tesla, the token endpoint, each healthcheck ping) would cost tens of milliseconds.
    It is made at the first ``https://`` request: a run that speaks only plain HTTP (the sandbox
    on loopback) never loads the bundle."""
    return httpx.create_ssl_context()


@functools.cache
def _no_tls() -> ssl.SSLContext:
    """The context given to the transport of plain ``http://`` requests, which never use it: it
    loads no certificates, and would verify (and so refuse) any it were shown."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class ByScheme(httpx.BaseTransport):
    """A transport per scheme, each made at its first request: ``http://`` on one without
    certificates, everything else on one with :func:`tls_context`."""

    def __init__(self, make: Callable[[ssl.SSLContext], httpx.BaseTransport]) -> None:
        self._make = make
        self._made: dict[bool, httpx.BaseTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        secure = request.url.scheme != "http"
        transport = self._made.get(secure)
        if transport is None:
            transport = self._made[secure] = self._make(tls_context() if secure else _no_tls())
        return transport.handle_request(request)

    def close(self) -> None:
        for transport in self._made.values():
            transport.close()


def make_client(
    base_url: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    within_run: bool = True,
) -> httpx.Client:
    """A client whose every request ends within ``timeout`` seconds in all (and, ``within_run``,
    by the end of the run's deadline, if one is set), with its answer's body capped at
    :data:`MAX_BODY_BYTES`. Only gzip and deflate are asked for: those are what the cap can
    measure as they inflate."""

    def bounded(context: ssl.SSLContext) -> httpx.BaseTransport:
        return Bounded(httpx.HTTPTransport(verify=context), timeout, within_run)

    client = httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            **(headers or {}),
        },
        follow_redirects=False,
        transport=ByScheme(bounded),
    )
    mounts = getattr(client, "_mounts", None)  # proxies from the environment, if any
    if isinstance(mounts, dict):
        for pattern, transport in mounts.items():
            if isinstance(transport, httpx.BaseTransport):
                mounts[pattern] = Bounded(transport, timeout, within_run)
    return client


def bounded_request(
    method: str,
    url: str,
    timeout: float,
    content: bytes | None = None,
    within_run: bool = True,
) -> httpx.Response:
    """One request to ``url`` outside any service's client (``doctor``'s clock check, a
    healthcheck ping) with the same bounds as every other: ``timeout`` seconds in all, the run's
    deadline if ``within_run``, the answer's body capped. Raises what httpx raises
    (:class:`httpx.HTTPError`, :class:`httpx.InvalidURL`)."""
    with make_client("", timeout, within_run=within_run) as client:
        return client.request(method, url, content=content)


def call_with_retries(
    attempt: Callable[[], T],
    policy: NetworkPolicy,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``attempt`` until it succeeds, raises something other than :class:`Transient`, or
    ``policy.attempts`` are used up (then the last :class:`Transient` is raised).

    Most calls succeed at once: tenacity (about 1 MB) is loaded only after a first attempt has
    failed, and then replays that failure as its own first attempt, so the retries, waits and
    log lines are the same as if it had run from the start."""
    failed: list[Transient] = []
    try:
        return attempt()
    except Transient as error:
        if _out_of_time():
            raise
        failed.append(error)

    def again() -> T:
        if failed:
            raise failed.pop()
        return attempt()

    return _with_tenacity(again, policy, what, sleep)


def _with_tenacity(
    attempt: Callable[[], T],
    policy: NetworkPolicy,
    what: str,
    sleep: Callable[[float], None],
) -> T:
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.retry_after is not None:
            wanted = error.retry_after
        else:
            wanted = float(policy.backoff * 2 ** (state.attempt_number - 1))
        left = run_left()
        return wanted if left is None else max(0.0, min(wanted, left))

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s failed (%s); retrying in %.1f s (attempt %d of %d)",
            what,
            error.description if isinstance(error, Transient) else error,
            state.next_action.sleep if state.next_action else 0.0,
            state.attempt_number + 1,
            policy.attempts,
        )

    def guarded() -> T:
        try:
            return attempt()
        except Transient as error:
            if error.retry_after is not None and error.retry_after > policy.max_wait:
                raise GiveUp(error) from error
            if _out_of_time():
                raise GiveUp(error) from error
            raise

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception_type(Transient),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(guarded)
    except GiveUp as give_up:
        raise give_up.error from None


class GiveUp(Exception):
    """A transient failure not worth waiting for (the server asks for too long a pause)."""

    def __init__(self, error: Transient) -> None:
        super().__init__(error.description)
        self.error = error


def _out_of_time() -> bool:
    """The run's deadline has passed: no more attempts."""
    left = run_left()
    return left is not None and left <= 0


def transport_failure(error: httpx.HTTPError) -> Transient:
    """Timeouts and connection errors, described without URLs' query strings or headers."""
    if isinstance(error, DeadlinePassed):
        # the run's deadline: not retried (0: no "tried N times", it was not)
        return Transient(error.description, 0.0 if error.run else None)
    if isinstance(error, BodyTooLarge):
        return Transient(error.description)
    if isinstance(error, httpx.TimeoutException):
        return Transient("timed out")
    return Transient(f"connection failed: {type(error).__name__}")

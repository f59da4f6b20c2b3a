"""The Amber API client: sites and current prices, with bounded retries. Only this module knows
Amber's URLs and wire format; the token never appears in logs or errors."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar

import httpx

from amber_tesla_sync.amber.models import (
    Interval,
    Site,
    Usage,
    parse_intervals,
    parse_sites,
    parse_usage,
)
from amber_tesla_sync.errors import AuthError, DataError, ServiceError
from amber_tesla_sync.support import redact
from amber_tesla_sync.support.bounds import BodyTooLarge
from amber_tesla_sync.support.http import (
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


def intervals_to_request(
    interval_length: int,
    now: dt.datetime | None = None,
    recorded_until: dt.datetime | None = None,
) -> tuple[int, int]:
    """``next`` and ``previous`` for one run, counted at the billing resolution: ≥ 25 h ahead
    (the day daylight saving ends has 25 hours) and 24 h back for the persistence estimate, or,
    when the prices recorded earlier reach ``recorded_until`` without a gap, back to an hour
    before that."""
    per_hour = 60 // interval_length
    previous = 24 * per_hour
    if now is not None and recorded_until is not None:
        missing = max(now - recorded_until, dt.timedelta(0))
        since = math.ceil(missing / dt.timedelta(minutes=interval_length))
        previous = min(previous, since + per_hour)
    return 25 * per_hour, previous


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
        self._answered = threading.local()  # one client may serve several threads at once

    @property
    def server_time(self) -> dt.datetime | None:
        """The ``Date`` header of the last answer this thread received (the client may be shared
        by threads fetching several sites at once: each sees its own answer's time)."""
        found: dt.datetime | None = getattr(self._answered, "server_time", None)
        return found

    @server_time.setter
    def server_time(self, value: dt.datetime | None) -> None:
        self._answered.server_time = value

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
            lambda body: parse_intervals(body, "Amber's price response"),
        )

    def usage(self, site_id: str, start: dt.date, end: dt.date) -> list[Usage]:
        """Metered usage and its cost for the NEM days ``start`` … ``end`` (inclusive, ≤ 7 days
        apart, within the last 90 days). Days not yet metered come back empty."""
        params = {"startDate": start.isoformat(), "endDate": end.isoformat()}
        return self._get(
            f"sites/{site_id}/usage",
            params,
            "fetching Amber usage",
            lambda body: parse_usage(body, "Amber's usage response"),
        )

    def _get(self, path: str, params: dict[str, Any], what: str, parse: Callable[[Any], T]) -> T:
        """GET ``path`` and ``parse`` the body. A body that is not JSON, or whose content is
        malformed or implausible, counts as a garbled answer and is asked for again; if every
        attempt is malformed the run ends with the whole :class:`DataError` (exit 4)."""

        def attempt() -> T:
            self.requests += 1
            answer = ANSWERS.get(what, "Amber's answer")
            try:
                response = self._http.get(path, params=params)
            except BodyTooLarge as error:
                # far more than any real answer: malformed data (asked for again, then exit 4)
                raise MalformedAnswer(
                    DataError(f"{answer} is far too large to be real: {error.description}")
                ) from None
            except httpx.HTTPError as error:
                raise transport_failure(error) from error
            body = self._decode(response, path, answer)
            try:
                return parse(body)
            except DataError as error:
                raise MalformedAnswer(error) from None

        try:
            return call_with_retries(attempt, self.policy, what)
        except MalformedAnswer as error:
            # JSON whose content cannot be trusted, every time: bad data (exit 4), in full
            raise DataError(
                error.error.message,
                "nothing was pushed and the Powerwall keeps its tariff; the next run asks Amber "
                "again (if this persists, Amber's API is sending bad data)",
            ) from None
        except Transient as error:
            raise ServiceError(
                f"{what} failed: {error.description}"
                + (f" (tried {self.policy.attempts} times)" if error.retry_after is None else ""),
                "Amber may be having problems or the network is down; the next run will try "
                "again (nothing was changed)",
            ) from None

    def _decode(self, response: httpx.Response, path: str, what: str) -> Any:
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
        self.server_time = _server_time(response) or self.server_time
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            # garbled content, not an unavailable service: asked for again, then bad data
            raise MalformedAnswer(
                DataError(f"{what} is not JSON: {_not_json(response, error)}")
            ) from None


ANSWERS = {
    "listing Amber sites": "Amber's site list",
    "fetching Amber prices": "Amber's price response",
    "fetching Amber usage": "Amber's usage response",
}
"""How each request's answer is named in a message (as the parsers name it)."""


class MalformedAnswer(Transient):
    """A JSON body whose content does not parse or cannot be trusted (asked for again)."""

    def __init__(self, error: DataError) -> None:
        super().__init__(f"Amber sent a malformed response ({error.first_line})")
        self.error = error


def _not_json(response: httpx.Response, error: Exception) -> str:
    """What a body that does not decode looks like, for the message."""
    content = response.content
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    if not content.strip():
        return f"the body is empty ({kind})"
    if isinstance(error, RecursionError):
        return "it is nested too deeply to be a price list"
    if b"<html" in content[:512].lower() or kind == "text/html":
        return f"an HTML page ({kind}, {len(content)} bytes)"
    if isinstance(error, UnicodeDecodeError):
        return f"it is not text ({kind}, {len(content)} bytes)"
    return f"cut short or garbled ({kind}, {len(content)} bytes; {error})"


def _server_time(response: httpx.Response) -> dt.datetime | None:
    """The ``Date`` header as an aware UTC time (None when absent or unreadable)."""
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "no details"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return redact.server_text(str(body["message"]), 200) or "no details"
    return "no details"

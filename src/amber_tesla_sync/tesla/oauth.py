"""Tesla OAuth 2.0: PKCE, the authorize URL and the token endpoint (code exchange, refresh with
rotation, partner token). Token values never appear in logs or errors."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import httpx

from amber_tesla_sync.errors import AuthError, UnavailableError
from amber_tesla_sync.support import redact
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
SCOPES = ("openid", "offline_access", "energy_device_data", "energy_cmds")
LOGIN_HINT = "run `amber-tesla-sync login fleet`"
_SECRET_FIELDS = ("client_secret", "refresh_token", "code", "code_verifier")
# an answer (or saved tokens) not JSON, not UTF-8, or nested deeper than the parser follows
UNREADABLE = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)
MAX_EXPIRES_IN = 10 * 366 * 86400  # seconds: Tesla's access tokens last 8 hours


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorize_url(
    base: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    pkce: Pkce,
    scopes: tuple[str, ...] = SCOPES,
    prompt_missing_scopes: bool = False,
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    if prompt_missing_scopes:
        query["prompt_missing_scopes"] = "true"
    return base + ("&" if "?" in base else "?") + urllib.parse.urlencode(query)


@dataclass(frozen=True)
class TokenSet:
    """A user's Fleet tokens, as saved in the secret store."""

    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds
    scope: str = ""
    # the refresh token exchanged for this set: Tesla accepts it again for 24 h, which rescues
    # the chain when an answer was lost and a late duplicate of the request replaced our token
    previous_refresh_token: str = ""

    def expiring(self, now: float, margin: float = 60.0) -> bool:
        return self.expires_at - margin <= now

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        data = json.loads(text)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            expires_at=float(data["expires_at"]),
            scope=str(data.get("scope", "")),
            previous_refresh_token=str(data.get("previous_refresh_token", "")),
        )


class LoginRequired(AuthError):
    """The refresh token (or the whole login) is no longer accepted."""


class TokenEndpoint:
    """``POST …/oauth2/v3/token`` (form-encoded)."""

    def __init__(self, token_url: str, policy: NetworkPolicy | None = None) -> None:
        self.policy = policy or NetworkPolicy()
        self.token_url = token_url
        self.requests = 0

    def exchange_code(
        self,
        client_id: str,
        client_secret: str,
        code: str,
        verifier: str,
        redirect_uri: str,
        audience: str,
    ) -> TokenSet:
        return self._post(
            {
                "grant_type": "authorization_code",
                "client_id": client_id,
                "client_secret": client_secret,
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
                "audience": audience,
            },
            "exchanging the authorization code",
            _token_set,
        )

    def refresh(self, client_id: str, refresh_token: str) -> TokenSet:
        return self._post(
            {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token},
            "refreshing the Fleet token",
            _token_set,
        )

    def partner_token(self, client_id: str, client_secret: str, audience: str) -> str:
        return self._post(
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "audience": audience,
                "scope": " ".join(SCOPES[2:]),
            },
            "getting a partner token",
            lambda body: _field(body, "access_token"),
        )

    def _post(self, form: dict[str, str], what: str, parse: Callable[[dict[str, Any]], T]) -> T:
        """POST ``form`` and ``parse`` the answer; an answer that cannot be used (not JSON, a
        token or ``expires_in`` missing) is asked for again, then ends as a service error."""
        redact.remember(*(form.get(key) for key in _SECRET_FIELDS))

        def attempt() -> T:
            self.requests += 1
            try:
                with make_client("", self.policy.timeout) as http:
                    response = http.post(self.token_url, data=form)  # exactly this URL
            except httpx.HTTPError as error:
                raise transport_failure(error) from error
            return parse(_decode(response, what))

        try:
            return call_with_retries(attempt, self.policy, what)
        except Transient as error:
            raise UnavailableError(
                f"{what} failed: {error.description}",
                "Tesla's sign-in service may be down; try again later",
            ) from None


def _decode(response: httpx.Response, what: str) -> dict[str, Any]:
    status = response.status_code
    log.debug("Tesla token endpoint (%s) → %d", what, status)
    if status >= 500 or status == 429:
        raise Transient(f"Tesla answered {status}", retry_after(response))
    try:
        body = response.json()
    except UNREADABLE as unreadable:
        if status == 200:
            why = "nested too deeply" if isinstance(unreadable, RecursionError) else "not JSON"
            raise Transient(f"Tesla sent a malformed response ({why})") from None
        body = {}
    if not isinstance(body, dict):
        raise Transient("Tesla sent a malformed response")
    if status == 200:
        return body
    error = redact.server_text(str(body.get("error", "")), 80) or f"HTTP {status}"
    description = redact.server_text(str(body.get("error_description", "")), 200)
    detail = f"{error}: {description}" if description else error
    if error in ("invalid_client", "unauthorized_client"):  # 401 too: not an expired login
        raise AuthError(
            f"{what} failed: Tesla rejected the client id or secret ({detail})",
            "check tesla.client_id and the client secret from developer.tesla.com, then "
            "`amber-tesla-sync login fleet` again",
        )
    if error in ("login_required", "invalid_grant") or status == 401:
        raise LoginRequired(
            f"{what} failed: the Fleet login has expired or was replaced ({detail})", LOGIN_HINT
        )
    raise AuthError(f"{what} failed: Tesla refused it ({detail})", LOGIN_HINT)


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise Transient(f"Tesla's token response has no {name}")
    redact.remember(value)
    return value


def _token_set(body: dict[str, Any]) -> TokenSet:
    expires_in = body.get("expires_in", 28800)
    number = isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
    if not number or not 0 <= expires_in <= MAX_EXPIRES_IN:  # NaN, infinity, 1e400 too
        raise Transient("Tesla's token response has no valid expires_in")
    return TokenSet(
        access_token=_field(body, "access_token"),
        refresh_token=_field(body, "refresh_token"),
        expires_at=time.time() + float(expires_in),
        scope=str(body.get("scope", "")),
    )

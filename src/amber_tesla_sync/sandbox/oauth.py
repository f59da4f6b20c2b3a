"""Tesla's OAuth 2.0 server: authorization codes, rotating refresh tokens, partner tokens.

PKCE (S256) is required of public clients only: a code exchange without ``client_secret`` must
present the ``code_verifier`` of a code requested with a ``code_challenge``. A confidential client
(with its secret) may use PKCE or not. The ``require_pkce`` switch demands it of everyone.

Pure bookkeeping without HTTP; every public method holds one lock, so concurrent refreshes see a
consistent chain.

Refresh-token rotation follows Tesla's rules: every refresh returns a new access token and a new
refresh token; a refresh token is single-use, except that the most recently *used* one stays
valid for 24 hours (using it again returns another fresh pair, which replaces the one issued
before); any other token of the chain gives ``login_required``. Refresh tokens also lapse three
months after they were issued.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from amber_tesla_sync.sandbox import jwt_tokens

REFRESH_GRACE = timedelta(hours=24)
REFRESH_LIFETIME = timedelta(days=90)
CODE_LIFETIME = timedelta(minutes=5)
LOGIN_REQUIRED = (
    "The refresh_token is invalid. Generate a new refresh_token by forcing the user to "
    "re-authenticate."
)


@dataclass(frozen=True)
class OAuthClient:
    """The developer application registered with Tesla."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[str]


@dataclass
class OAuthSettings:
    """Behaviour switches (changeable at run time)."""

    expires_in: int = 28_800
    require_pkce: bool = False
    declined_scopes: set[str] = field(default_factory=set)
    """Scopes the simulated user unticks on the consent page (unless ``prompt_missing_scopes``)."""
    deny_consent: bool = False
    """When true the simulated user refuses consent (redirect with ``error=access_denied``)."""


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class AccessGrant:
    """An issued access token."""

    jti: str
    kind: Literal["user", "partner"]
    subject: str
    scopes: tuple[str, ...]
    audience: tuple[str, ...]
    expires_at: datetime
    revoked: bool = False


@dataclass
class _Chain:
    scopes: tuple[str, ...]
    audience: tuple[str, ...]
    current: str
    last_used: str | None = None
    last_used_at: datetime | None = None
    revoked: bool = False


@dataclass(frozen=True)
class AuthorizeOutcome:
    """Either a redirect (``location``) or an error page."""

    status: int
    location: str | None = None
    title: str = ""
    message: str = ""


@dataclass(frozen=True)
class TokenOutcome:
    """The token endpoint's status and JSON body."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class AccessCheck:
    """Result of looking up a bearer token."""

    status: Literal["ok", "unknown", "expired"]
    grant: AccessGrant | None = None


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _error(status: int, error: str, description: str) -> TokenOutcome:
    return TokenOutcome(status, {"error": error, "error_description": description})


class OAuthServer:
    """Codes, access tokens and refresh-token chains of one Tesla user and one application."""

    def __init__(
        self,
        client: OAuthClient,
        *,
        user_id: str,
        region: str,
        issuer: str,
        audiences: Callable[[], tuple[str, ...]],
        clock: Callable[[], datetime],
        settings: OAuthSettings,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.region = region
        self.issuer = issuer
        self.settings = settings
        self._audiences = audiences
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, tuple[int, datetime]] = {}
        self._chains: list[_Chain] = []

    # -- authorize ---------------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> AuthorizeOutcome:
        """Handle the browser's ``GET /oauth2/v3/authorize``; the user approves at once."""
        with self._lock:
            return self._authorize(params)

    def _authorize(self, params: dict[str, str]) -> AuthorizeOutcome:
        if params.get("client_id") != self.client.client_id:
            return AuthorizeOutcome(400, title="Invalid client", message="Unknown client_id.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.client.redirect_uris:
            return AuthorizeOutcome(
                400, title="Invalid redirect_uri", message="We don't recognize this redirect_uri"
            )
        state = params.get("state", "")

        def fail(error: str, description: str) -> AuthorizeOutcome:
            query = {"error": error, "error_description": description}
            if state:
                query["state"] = state
            return AuthorizeOutcome(302, location=_with_query(redirect_uri, query))

        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be code")
        requested = params.get("scope", "").split()
        if "openid" not in requested:
            return fail("invalid_scope", "scope must include openid")
        if not state:
            return fail("invalid_request", "state is required")
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if challenge is None:
            if self.settings.require_pkce:
                return fail("invalid_request", "code_challenge is required")
        elif method != "S256":
            return fail("invalid_request", "code_challenge_method must be S256")
        elif len(challenge) != 43:
            return fail("invalid_request", "code_challenge is malformed")
        if self.settings.deny_consent:
            return fail("access_denied", "The user denied access")
        granted = [s for s in dict.fromkeys(requested) if s in self.client.allowed_scopes]
        if params.get("prompt_missing_scopes", "").lower() == "true":
            self.settings.declined_scopes.clear()
        else:
            granted = [s for s in granted if s not in self.settings.declined_scopes]
        code = f"{self.region}_{secrets.token_hex(32)}"
        self._codes[code] = _Code(
            client_id=self.client.client_id,
            redirect_uri=redirect_uri,
            scopes=tuple(granted),
            challenge=challenge,
            expires_at=self._clock() + CODE_LIFETIME,
        )
        query = {"locale": "en-US", "code": code, "state": state, "issuer": self.issuer}
        return AuthorizeOutcome(302, location=_with_query(redirect_uri, query))

    # -- token endpoint ----------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> TokenOutcome:
        """Handle ``POST /oauth2/v3/token``."""
        with self._lock:
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                return self._exchange_code(form)
            if grant_type == "refresh_token":
                return self._refresh_grant(form)
            if grant_type == "client_credentials":
                return self._client_credentials(form)
            return _error(400, "unsupported_grant_type", f"unsupported grant_type {grant_type!r}")

    def _check_client(self, form: dict[str, str], *, secret_required: bool) -> TokenOutcome | None:
        if form.get("client_id") != self.client.client_id:
            return _error(401, "invalid_client", "unknown client_id")
        secret = form.get("client_secret")
        if secret is None and secret_required:
            return _error(401, "invalid_client", "client_secret is required")
        if secret is not None and secret != self.client.client_secret:
            return _error(401, "invalid_client", "client authentication failed")
        return None

    def _check_audience(self, form: dict[str, str]) -> TokenOutcome | None:
        audience = form.get("audience", "")
        if not audience:
            return _error(400, "invalid_request", "audience is required")
        if audience.rstrip("/") not in self._audiences():
            return _error(400, "invalid_request", f"audience {audience} is not a Fleet API host")
        return None

    def _exchange_code(self, form: dict[str, str]) -> TokenOutcome:
        failure = self._check_client(form, secret_required=False)
        if failure is not None:
            return failure
        code = self._codes.get(form.get("code", ""))
        now = self._clock()
        if code is None or code.used or now >= code.expires_at:
            return _error(400, "invalid_auth_code", "authorization code is invalid or expired")
        code.used = True
        if code.challenge is None and form.get("client_secret") is None:
            return _error(
                401, "invalid_client", "client_secret is required (public clients must use PKCE)"
            )
        if form.get("redirect_uri", "") != code.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri does not match the authorization")
        failure = self._check_audience(form)
        if failure is not None:
            return failure
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not verifier:
                return _error(400, "invalid_grant", "code_verifier is required")
            if not jwt_tokens.valid_verifier(verifier):
                return _error(400, "invalid_request", "code_verifier is malformed")
            if jwt_tokens.pkce_s256(verifier) != code.challenge:
                return _error(400, "invalid_grant", "code_verifier does not match code_challenge")
        audience = self._audience_list(form["audience"])
        body = self._issue_user_tokens(code.scopes, audience, chain=None)
        return TokenOutcome(200, body)

    def _refresh_grant(self, form: dict[str, str]) -> TokenOutcome:
        failure = self._check_client(form, secret_required=False)
        if failure is not None:
            return failure
        token = form.get("refresh_token", "")
        if not token:
            return _error(400, "invalid_request", "refresh_token is required")
        now = self._clock()
        entry = self._refresh.get(token)
        if entry is None:
            return _error(401, "login_required", LOGIN_REQUIRED)
        chain_id, issued_at = entry
        chain = self._chains[chain_id]
        if chain.revoked or now >= issued_at + REFRESH_LIFETIME:
            return _error(401, "login_required", LOGIN_REQUIRED)
        if token == chain.current:
            chain.last_used = token
            chain.last_used_at = now
        elif not (
            token == chain.last_used
            and chain.last_used_at is not None
            and now < chain.last_used_at + REFRESH_GRACE
        ):
            return _error(401, "login_required", LOGIN_REQUIRED)
        body = self._issue_user_tokens(chain.scopes, chain.audience, chain=chain_id)
        return TokenOutcome(200, body)

    def _client_credentials(self, form: dict[str, str]) -> TokenOutcome:
        failure = self._check_client(form, secret_required=True)
        if failure is not None:
            return failure
        failure = self._check_audience(form)
        if failure is not None:
            return failure
        requested = form.get("scope", "openid").split() or ["openid"]
        scopes = tuple(s for s in dict.fromkeys(requested) if s in self.client.allowed_scopes)
        audience = self._audience_list(form["audience"])
        access = self._new_access("partner", self.client.client_id, scopes, audience)
        return TokenOutcome(
            200,
            {
                "access_token": access,
                "expires_in": self.settings.expires_in,
                "token_type": "Bearer",
            },
        )

    def _audience_list(self, requested: str) -> tuple[str, ...]:
        first = requested.rstrip("/")
        return (first, *(a for a in self._audiences() if a != first))

    def _new_access(
        self,
        kind: Literal["user", "partner"],
        subject: str,
        scopes: tuple[str, ...],
        audience: tuple[str, ...],
    ) -> str:
        now = self._clock()
        expires_at = now + timedelta(seconds=self.settings.expires_in)
        jti = str(uuid.uuid4())
        self._access[jti] = AccessGrant(jti, kind, subject, scopes, audience, expires_at)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": self.client.client_id,
            "sub": subject,
            "aud": list(audience),
            "scp": list(scopes),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": jti,
            "ou_code": self.region,
            "token_kind": kind,
        }
        return jwt_tokens.encode(claims, self._key)

    def _issue_user_tokens(
        self, scopes: tuple[str, ...], audience: tuple[str, ...], chain: int | None
    ) -> dict[str, Any]:
        now = self._clock()
        body: dict[str, Any] = {
            "access_token": self._new_access("user", self.user_id, scopes, audience),
        }
        if "offline_access" in scopes:
            refresh = f"{self.region}_{secrets.token_hex(32)}"
            if chain is None:
                self._chains.append(_Chain(scopes, audience, refresh))
                chain = len(self._chains) - 1
            else:
                self._chains[chain].current = refresh
            self._refresh[refresh] = (chain, now)
            body["refresh_token"] = refresh
        id_claims = {
            "iss": self.issuer,
            "aud": self.client.client_id,
            "sub": self.user_id,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.settings.expires_in,
        }
        body["id_token"] = jwt_tokens.encode(id_claims, self._key)
        body["expires_in"] = self.settings.expires_in
        body["token_type"] = "Bearer"
        return body

    # -- resource-server side ----------------------------------------------------------------

    def check(self, token: str) -> AccessCheck:
        """Look up a bearer token presented to the Fleet API."""
        claims = jwt_tokens.decode(token, self._key)
        with self._lock:
            grant = self._access.get(str(claims.get("jti"))) if claims else None
            if grant is None:
                return AccessCheck("unknown")
            if grant.revoked or self._clock() >= grant.expires_at:
                return AccessCheck("expired", grant)
            return AccessCheck("ok", grant)

    def expire_access_tokens(self) -> int:
        """Make every issued access token expired; returns how many were live."""
        with self._lock:
            now = self._clock()
            live = [g for g in self._access.values() if not g.revoked and now < g.expires_at]
            for grant in live:
                grant.revoked = True
            return len(live)

    def revoke_refresh_tokens(self) -> int:
        """Invalidate every refresh-token chain (as a password reset does)."""
        with self._lock:
            live = [c for c in self._chains if not c.revoked]
            for chain in live:
                chain.revoked = True
            return len(live)

    def valid_refresh_tokens(self) -> list[str]:
        """Refresh tokens that would be accepted now (for tests)."""
        with self._lock:
            now = self._clock()
            valid: list[str] = []
            for chain in self._chains:
                if chain.revoked:
                    continue
                candidates = [chain.current]
                if (
                    chain.last_used is not None
                    and chain.last_used_at is not None
                    and now < chain.last_used_at + REFRESH_GRACE
                ):
                    candidates.append(chain.last_used)
                valid.extend(t for t in candidates if now < self._refresh[t][1] + REFRESH_LIFETIME)
            return valid

    def summary(self) -> dict[str, Any]:
        """Counts and fingerprints (never raw tokens) for the state dump."""
        valid = self.valid_refresh_tokens()
        with self._lock:
            now = self._clock()
            live = [g for g in self._access.values() if not g.revoked and now < g.expires_at]
            return {
                "expires_in": self.settings.expires_in,
                "require_pkce": self.settings.require_pkce,
                "declined_scopes": sorted(self.settings.declined_scopes),
                "deny_consent": self.settings.deny_consent,
                "access_tokens_issued": len(self._access),
                "access_tokens_live": len(live),
                "refresh_chains": len(self._chains),
                "refresh_chains_live": sum(1 for c in self._chains if not c.revoked),
                "valid_refresh_token_fingerprints": [jwt_tokens.fingerprint(t) for t in valid],
            }

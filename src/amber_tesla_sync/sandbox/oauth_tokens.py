"""Tesla's token endpoint (``POST /oauth2/v3/token``): code exchange, rotating refresh tokens and
partner tokens, and the signed access and ID tokens it issues.

PKCE (S256) is required of public clients only: a code exchange without ``client_secret`` must
present the ``code_verifier`` of a code requested with a ``code_challenge``. A confidential client
(with its secret) may use PKCE or not. The ``require_pkce`` switch demands it of everyone.

Refresh-token rotation follows Tesla's rules: every refresh returns a new access token and a new
refresh token; a refresh token is single-use, except that the most recently *used* one stays
valid for 24 hours (using it again returns another fresh pair, which replaces the one issued
before); any other token of the chain gives ``login_required``. The ``strict_refresh`` switch
drops that grace: only the current token of a chain is accepted. Refresh tokens also lapse three
months after they were issued.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from amber_tesla_sync.sandbox import jwt_tokens
from amber_tesla_sync.sandbox.oauth_state import AccessGrant, OAuthState, RefreshChain

REFRESH_GRACE = timedelta(hours=24)
REFRESH_LIFETIME = timedelta(days=90)
LOGIN_REQUIRED = (
    "The refresh_token is invalid. Generate a new refresh_token by forcing the user to "
    "re-authenticate."
)


@dataclass(frozen=True)
class TokenOutcome:
    """The token endpoint's status and JSON body."""

    status: int
    body: dict[str, Any]


def _error(status: int, error: str, description: str) -> TokenOutcome:
    return TokenOutcome(status, {"error": error, "error_description": description})


class TokenIssuer(OAuthState):
    """The token endpoint: exchanges codes, rotates refresh tokens, issues partner tokens."""

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
        elif self.settings.strict_refresh or not (
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
                self._chains.append(RefreshChain(scopes, audience, refresh))
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

"""Tesla's authorize page (``GET /oauth2/v3/authorize``): checks the request, and the simulated
user approves at once (or declines scopes, or refuses) with a redirect carrying a code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from amber_tesla_sync.sandbox.oauth_state import AuthCode, OAuthState

CODE_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class AuthorizeOutcome:
    """Either a redirect (``location``) or an error page."""

    status: int
    location: str | None = None
    title: str = ""
    message: str = ""


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class AuthorizePage(OAuthState):
    """The authorize endpoint: hands out authorization codes."""

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
        self._codes[code] = AuthCode(
            client_id=self.client.client_id,
            redirect_uri=redirect_uri,
            scopes=tuple(granted),
            challenge=challenge,
            expires_at=self._clock() + CODE_LIFETIME,
        )
        query = {"locale": "en-US", "code": code, "state": state, "issuer": self.issuer}
        return AuthorizeOutcome(302, location=_with_query(redirect_uri, query))
